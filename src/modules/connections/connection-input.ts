import { z } from 'zod';

const accessRule = z.union([
  z.literal('everyone'),
  z.literal('nobody'),
  z.object({ groups: z.array(z.string().min(1)).min(1) }).strict(),
]);

/** How an admin describes a connection over the API. Secret fields are write-only. */
export const connectionInputSchema = z
  .object({
    name: z.string(),
    description: z.string().default(''),
    bucket: z.string(),
    path: z.string().default(''),
    region: z.string().default('us-east-1'),
    endpoint: z.string().optional(),
    stsEndpoint: z.string().optional(),
    forcePathStyle: z.boolean().default(false),
    useBucketRegion: z.boolean().default(false),
    readOnly: z.boolean().default(false),
    /** Each user works in their own `<path>home/<username>/` only. */
    homeDirectories: z.boolean().optional(),
    credentials: z.discriminatedUnion('mode', [
      z.object({ mode: z.literal('environment') }).strict(),
      z
        .object({ mode: z.literal('keypair'), accessKeyId: z.string(), secretAccessKey: z.string().min(1).optional() })
        .strict(),
      z.object({ mode: z.literal('per-user-keypair') }).strict(),
      z
        .object({
          mode: z.literal('assume-role'),
          roleArn: z.string().min(1),
          externalId: z.string().optional(),
          durationSeconds: z.number().int().default(3600),
          master: z.enum(['environment', 'keypair', 'web-identity', 'saml']).default('environment'),
          accessKeyId: z.string().optional(),
          secretAccessKey: z.string().min(1).optional(),
        })
        .strict(),
    ]),
    usableBy: accessRule.default('everyone'),
    detailsReadableBy: accessRule.default('nobody'),
    /** Who may have rolegate sign their S3 requests (remote signing, presigned URLs); absent: nobody. */
    signingAllowedBy: accessRule.optional(),
    allowedRoles: z.array(z.string()).default([]),
    sessionNameTemplate: z.string().optional(),
  })
  .strict();

export type ConnectionInput = z.infer<typeof connectionInputSchema>;
export type AccessRuleInput = z.infer<typeof accessRule>;

/** What the API returns: the input shape without secrets, plus bookkeeping. */
export const connectionViewSchema = z.object({
  name: z.string(),
  description: z.string(),
  bucket: z.string(),
  path: z.string(),
  region: z.string(),
  endpoint: z.string().optional(),
  stsEndpoint: z.string().optional(),
  forcePathStyle: z.boolean(),
  useBucketRegion: z.boolean(),
  readOnly: z.boolean(),
  homeDirectories: z.boolean().optional(),
  credentials: z.object({
    mode: z.enum(['environment', 'keypair', 'per-user-keypair', 'assume-role']),
    accessKeyId: z.string().optional(),
    roleArn: z.string().optional(),
    externalIdSet: z.boolean().optional(),
    externalId: z.string().optional(),
    durationSeconds: z.number().optional(),
    master: z.enum(['environment', 'keypair', 'web-identity', 'saml']).optional(),
    secretStored: z.boolean().optional(),
  }),
  usableBy: accessRule,
  detailsReadableBy: accessRule,
  signingAllowedBy: accessRule,
  allowedRoles: z.array(z.string()),
  sessionNameTemplate: z.string(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ConnectionView = z.infer<typeof connectionViewSchema>;

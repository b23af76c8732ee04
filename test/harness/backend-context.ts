import { inject } from 'vitest';
import type { BackendFacts } from '../../src/demo/local-backend.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared S3+STS+IAM backend started by `global-setup.ts` for the `integ` project. */
    s3Backend: BackendFacts;
  }
}

/** The running backend's endpoint and credentials, as provided by the integ project's global setup. */
export function backendFromContext(): BackendFacts {
  const facts = inject('s3Backend');
  if (facts === undefined) {
    throw new Error('no S3 backend provided: run this file in the vitest "integ" project (its globalSetup starts one)');
  }
  return facts;
}

/**
 * The little XML the S3 protocol needs: building responses (escaped, S3's namespace) and parsing the two
 * request bodies clients send (DeleteObjects, CompleteMultipartUpload). The parser is deliberately small:
 * elements and text only; a DOCTYPE, an entity declaration or a processing instruction is refused, so no
 * entity expansion, external fetch or billion-laughs is possible. Callers bound the body size before parsing.
 */
import { invalidInput, type RolegateError } from '../errors/errors.js';

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** A node to serialise: an element with text or children. `undefined` children are skipped. */
export type XmlChild = XmlElement | undefined;
export interface XmlElement {
  readonly name: string;
  readonly text?: string;
  readonly children?: readonly XmlChild[];
  readonly namespace?: boolean;
}

// XML 1.0 cannot carry most control characters even as references; S3 writes them as references anyway and
// clients that care ask for encoding-type=url. We write a reference for each, as S3 does.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const ESCAPE = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\r]/g;

export function escapeXml(text: string): string {
  return text.replace(ESCAPE, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

/** An element: `el('Key', 'a&b')` or `el('Contents', [el('Key', k), …])`. */
export function el(name: string, content: string | number | boolean | readonly XmlChild[] | undefined): XmlElement {
  if (Array.isArray(content)) return { name, children: content as readonly XmlChild[] };
  return { name, text: content === undefined ? '' : String(content) };
}

/** An element only when its value is defined (optional S3 fields). */
export function optional(name: string, value: string | number | boolean | undefined): XmlElement | undefined {
  return value === undefined ? undefined : el(name, value);
}

function write(node: XmlElement, out: string[]): void {
  const open = node.namespace ? `<${node.name} xmlns="${S3_NAMESPACE}">` : `<${node.name}>`;
  if (node.children !== undefined) {
    out.push(open);
    for (const child of node.children) if (child !== undefined) write(child, out);
    out.push(`</${node.name}>`);
  } else if (node.text === undefined || node.text === '') {
    out.push(node.namespace ? `<${node.name} xmlns="${S3_NAMESPACE}"/>` : `<${node.name}/>`);
  } else {
    out.push(open, escapeXml(node.text), `</${node.name}>`);
  }
}

/** A whole document with the XML declaration; the root carries S3's namespace unless told otherwise. */
export function xmlDocument(root: XmlElement, namespace = true): string {
  const out: string[] = [DECLARATION];
  write({ ...root, namespace }, out);
  return out.join('');
}

/** A parsed element: local name (prefix dropped), text content and child elements. */
export interface ParsedElement {
  readonly name: string;
  readonly text: string;
  readonly children: ParsedElement[];
}

const malformed = (why: string): RolegateError =>
  invalidInput(
    'gateway.malformed_xml',
    `The XML you provided was not well-formed or did not validate against our published schema: ${why}`,
  );

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeText(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|[a-z]+);|&/g, (match, ref: string | undefined) => {
    if (ref === undefined) throw malformed('a bare "&" in text');
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      if (code > 0x10ffff) throw malformed(`the character reference ${match} is out of range`);
      return String.fromCodePoint(code);
    }
    const value = ENTITIES[ref];
    if (value === undefined) throw malformed(`the entity ${match} is not one of XML's five`);
    return value;
  });
}

/**
 * Parses a small XML document into elements. Refuses DOCTYPE, ENTITY and processing instructions (other than
 * the declaration), unbalanced tags and text outside the root.
 */
export function parseXml(source: string, maxDepth = 8): ParsedElement {
  let i = 0;
  const text = source.replace(/^\uFEFF/, '');
  const stack: Array<{ name: string; text: string[]; children: ParsedElement[] }> = [];
  let root: ParsedElement | undefined;
  if (text.startsWith('<?xml')) {
    const end = text.indexOf('?>');
    if (end < 0) throw malformed('unterminated XML declaration');
    i = end + 2;
  }
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (stack.length > 0) (stack[stack.length - 1] as { text: string[] }).text.push(chunk);
    else if (chunk.trim() !== '') throw malformed('text outside the root element');
    if (lt < 0) break;
    i = lt;
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) throw malformed('unterminated comment');
      i = end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0 || stack.length === 0) throw malformed('misplaced or unterminated CDATA section');
      // Escaped so decodeText gives back the literal CDATA content.
      const literal = text.slice(i + 9, end).replace(/&/g, '&amp;');
      (stack[stack.length - 1] as { text: string[] }).text.push(literal);
      i = end + 3;
      continue;
    }
    if (text.startsWith('<!', i)) throw malformed('DOCTYPE and entity declarations are not accepted');
    if (text.startsWith('<?', i)) throw malformed('processing instructions are not accepted');
    const gt = text.indexOf('>', i);
    if (gt < 0) throw malformed('unterminated tag');
    const tag = text.slice(i + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open === undefined || open.name !== name) throw malformed(`unexpected closing tag </${name}>`);
      const element = { name: localName(open.name), text: decodeText(open.text.join('')), children: open.children };
      if (stack.length === 0) {
        if (root !== undefined) throw malformed('more than one root element');
        root = element;
      } else {
        (stack[stack.length - 1] as { children: ParsedElement[] }).children.push(element);
      }
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const name = NAME.exec(body)?.[0];
    if (name === undefined) throw malformed('a tag without a valid name');
    // Attributes (xmlns) are accepted but not read; quotes must balance.
    if ((body.slice(name.length).match(/["']/g)?.length ?? 0) % 2 !== 0) throw malformed('unbalanced attribute quotes');
    if (stack.length === 0 && root !== undefined) throw malformed('more than one root element');
    if (selfClosing) {
      const element = { name: localName(name), text: '', children: [] };
      if (stack.length === 0) root = element;
      else (stack[stack.length - 1] as { children: ParsedElement[] }).children.push(element);
      continue;
    }
    if (stack.length >= maxDepth) throw malformed('elements are nested too deeply');
    stack.push({ name, text: [], children: [] });
  }
  if (stack.length > 0 || root === undefined) throw malformed('the document is incomplete');
  return root;
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** The text of the first child named `name`, or undefined. */
export function childText(element: ParsedElement, name: string): string | undefined {
  return element.children.find((c) => c.name === name)?.text;
}

/** S3's limit on the objects one DeleteObjects request names. */
export const MAX_DELETE_OBJECTS = 1000;
/** DeleteObjects takes at most 1000 keys of at most 1024 bytes: 2 MiB bounds any valid body. */
export const MAX_DELETE_BODY_BYTES = 2 * 1024 * 1024;

/** A DeleteObjects request body: the objects it names, as given, and whether the answer lists only failures. */
export interface DeleteRequest {
  readonly objects: ReadonlyArray<{ readonly key: string; readonly versionId?: string | undefined }>;
  readonly quiet: boolean;
}

/**
 * Parses a DeleteObjects body (`<Delete><Object><Key>…</Key></Object>…<Quiet>…</Quiet></Delete>`): 1–1000 objects,
 * each with a non-empty key. Throws `gateway.malformed_xml` otherwise.
 */
export function parseDeleteRequest(source: string): DeleteRequest {
  const doc = parseXml(source);
  if (doc.name !== 'Delete') throw malformed('the root element must be Delete');
  const objects = doc.children.filter((c) => c.name === 'Object');
  if (objects.length === 0 || objects.length > MAX_DELETE_OBJECTS) {
    throw malformed(`Delete must name 1–${MAX_DELETE_OBJECTS} objects`);
  }
  return {
    objects: objects.map((o) => {
      const key = childText(o, 'Key');
      if (key === undefined || key === '') throw malformed('every Object must have a Key');
      return { key, versionId: childText(o, 'VersionId') };
    }),
    quiet: childText(doc, 'Quiet')?.trim() === 'true',
  };
}

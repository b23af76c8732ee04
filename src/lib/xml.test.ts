import { describe, expect, it } from 'vitest';
import { isRolegateError } from '../errors/errors.js';
import { childText, el, escapeXml, optional, parseDeleteRequest, parseXml, xmlDocument } from './xml.js';

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isRolegateError(e) ? e.code : String(e);
  }
};

describe('building XML', () => {
  it('escapes markup characters and control characters', () => {
    expect(escapeXml(`a&b<c>"d'e`)).toBe('a&amp;b&lt;c&gt;&quot;d&apos;e');
    expect(escapeXml('tab\tnl\ncr\rbell\u0007')).toBe('tab\tnl\ncr&#xd;bell&#x7;');
    expect(escapeXml('</Key><Key>x')).not.toContain('<');
  });

  it('writes a document with the S3 namespace on the root, skipping undefined children', () => {
    const doc = xmlDocument(
      el('ListBucketResult', [
        el('Name', 'conn'),
        optional('Marker', undefined),
        el('Contents', [el('Key', 'a<b')]),
        el('Prefix', ''),
      ]),
    );
    expect(doc).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>conn</Name>' +
        '<Contents><Key>a&lt;b</Key></Contents><Prefix/></ListBucketResult>',
    );
  });
});

describe('parsing XML', () => {
  it('reads a DeleteObjects body with namespace, entities, references and CDATA', () => {
    const doc = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<Quiet>true</Quiet><Object><Key>a&amp;b&#x20;c&#65;</Key></Object>' +
        '<Object><Key><![CDATA[x<y&z]]></Key><VersionId>v1</VersionId></Object><!-- comment --></Delete>',
    );
    expect(doc.name).toBe('Delete');
    expect(childText(doc, 'Quiet')).toBe('true');
    const keys = doc.children.filter((c) => c.name === 'Object').map((o) => childText(o, 'Key'));
    expect(keys).toEqual(['a&b cA', 'x<y&z']);
  });

  it('reads prefixed names and self-closing elements', () => {
    const doc = parseXml(
      '<s3:CompleteMultipartUpload xmlns:s3="x"><s3:Part><s3:PartNumber>1</s3:PartNumber><ETag/></s3:Part></s3:CompleteMultipartUpload>',
    );
    expect(doc.children[0]?.children.map((c) => [c.name, c.text])).toEqual([
      ['PartNumber', '1'],
      ['ETag', ''],
    ]);
  });

  it.each([
    ['a DOCTYPE', '<!DOCTYPE d [<!ENTITY x "y">]><Delete>&x;</Delete>'],
    ['an external entity', '<!DOCTYPE d SYSTEM "file:///etc/passwd"><Delete/>'],
    ['an undeclared entity', '<Delete>&x;</Delete>'],
    ['a processing instruction', '<Delete><?php echo 1 ?></Delete>'],
    ['unbalanced tags', '<Delete><Object></Delete>'],
    ['two roots', '<Delete/><Delete/>'],
    ['text outside the root', 'junk<Delete/>'],
    ['a bare ampersand', '<Delete>a & b</Delete>'],
    ['an incomplete document', '<Delete><Object>'],
    ['deep nesting', `${'<a>'.repeat(20)}${'</a>'.repeat(20)}`],
  ])('refuses %s', (_what, source) => {
    expect(code(() => parseXml(source))).toBe('gateway.malformed_xml');
  });
});

describe('parseDeleteRequest', () => {
  it('gives the objects as named (keys unchanged, versions kept) and the Quiet flag', () => {
    const body =
      '<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet> true </Quiet>' +
      '<Object><Key>a &amp; b/ü</Key></Object><Object><Key><![CDATA[c<d]]></Key><VersionId>v1</VersionId></Object></Delete>';
    expect(parseDeleteRequest(body)).toEqual({
      objects: [
        { key: 'a & b/ü', versionId: undefined },
        { key: 'c<d', versionId: 'v1' },
      ],
      quiet: true,
    });
    expect(parseDeleteRequest('<Delete><Object><Key>k</Key></Object></Delete>').quiet).toBe(false);
  });

  it.each([
    ['another root', '<Remove><Object><Key>k</Key></Object></Remove>'],
    ['no objects', '<Delete><Quiet>true</Quiet></Delete>'],
    ['an object without a key', '<Delete><Object><VersionId>v</VersionId></Object></Delete>'],
    ['an empty key', '<Delete><Object><Key></Key></Object></Delete>'],
    ['1001 objects', `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`],
  ])('refuses %s', (_what, source) => {
    expect(code(() => parseDeleteRequest(source))).toBe('gateway.malformed_xml');
  });
});

/**
 * Encodes the OpenAPI v2 document as the protobuf kubectl ≤ 1.27 insists on: `GET /openapi/v2` with
 * `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (no JSON alternative; after a
 * 406/404 it tries `/swagger-2.0.0.pb-v1` and then gives up). Its `apply`/`create` build the default
 * validator from this document before anything else, so without it they fail unless `--validate=false`.
 *
 * The message is gnostic's `openapi.v2.Document` (github.com/google/gnostic, OpenAPIv2.proto, Apache-2.0).
 * Only the parts kubelab's documents use are written; field numbers are from that descriptor (as embedded
 * in the kubectl binary). Vendor extensions (`x-…`) travel as `NamedAny{name, Any{yaml}}`; JSON is valid
 * YAML, so their values are written as JSON text.
 */

type Json = Record<string, unknown>;

/** Field numbers of the openapi.v2 messages written here. */
const F = {
  Document: { swagger: 1, info: 2, paths: 8, definitions: 9 },
  Info: { title: 1, version: 2 },
  Paths: { path: 2 },
  Named: { name: 1, value: 2 }, // NamedPathItem, NamedSchema, NamedAny, NamedResponseValue
  Definitions: { additionalProperties: 1 }, // also Properties
  PathItem: { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 },
  Operation: { tags: 1, description: 3, operationId: 5, parameters: 8, responses: 9, vendorExtension: 13 },
  ParametersItem: { parameter: 1 },
  Parameter: { bodyParameter: 1, nonBodyParameter: 2 },
  NonBodyParameter: { header: 1, formData: 2, query: 3, path: 4 },
  /** QueryParameterSubSchema and FormDataParameterSubSchema share these numbers. */
  QueryParameter: { required: 1, in: 2, description: 3, name: 4, type: 6, uniqueItems: 20 },
  /** HeaderParameterSubSchema and PathParameterSubSchema. */
  PathParameter: { required: 1, in: 2, description: 3, name: 4, type: 5, uniqueItems: 19 },
  BodyParameter: { description: 1, name: 2, in: 3, required: 4, schema: 5 },
  Responses: { responseCode: 1 },
  ResponseValue: { response: 1 },
  Response: { description: 1, schema: 2 },
  SchemaItem: { schema: 1 },
  Any: { yaml: 2 },
  Schema: { ref: 1, format: 2, title: 3, description: 4, required: 19, additionalProperties: 21, type: 22, items: 23, allOf: 24, properties: 25, vendorExtension: 31 },
  AdditionalPropertiesItem: { schema: 1, boolean: 2 },
  TypeItem: { value: 1 },
  ItemsItem: { schema: 1 },
} as const;

// ------------------------------------------------------------------------------------------- wire

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** A length-delimited field (wire type 2): strings, bytes and embedded messages. */
function bytesField(field: number, data: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
}

function str(field: number, s: string | undefined): Buffer[] {
  return s === undefined || s === '' ? [] : [bytesField(field, Buffer.from(s, 'utf8'))];
}

function msg(field: number, parts: Buffer[]): Buffer {
  return bytesField(field, Buffer.concat(parts));
}

function bool(field: number, b: unknown): Buffer[] {
  return b === true ? [Buffer.concat([varint(field << 3), varint(1)])] : [];
}

function named(field: number, name: string, value: Buffer[]): Buffer {
  return msg(field, [...str(F.Named.name, name), msg(F.Named.value, value)]);
}

/** `x-…` keys of an object as repeated NamedAny in `field`. */
function extensions(field: number, obj: Json): Buffer[] {
  return Object.entries(obj)
    .filter(([k]) => k.startsWith('x-'))
    .map(([k, v]) => named(field, k, str(F.Any.yaml, JSON.stringify(v))));
}

// --------------------------------------------------------------------------------------- messages

function schema(s: Json): Buffer[] {
  const S = F.Schema;
  // The vendored schemas are v3-shaped where a reference carries a description (`allOf: [{$ref}]`);
  // v2 readers (kubectl's openapi models) only follow a plain `$ref`, as the v2 spec writes it.
  const allOf = s.allOf as Json[] | undefined;
  const ref = (s.$ref as string | undefined) ?? (allOf?.length === 1 && typeof allOf[0].$ref === 'string' ? allOf[0].$ref : undefined);
  const parts: Buffer[] = [...str(S.ref, ref), ...str(S.format, s.format as string | undefined), ...str(S.description, s.description as string | undefined)];
  for (const r of (s.required as string[] | undefined) ?? []) parts.push(...str(S.required, r));
  const ap = s.additionalProperties;
  if (typeof ap === 'boolean') parts.push(msg(S.additionalProperties, bool(F.AdditionalPropertiesItem.boolean, ap)));
  else if (ap && typeof ap === 'object') parts.push(msg(S.additionalProperties, [msg(F.AdditionalPropertiesItem.schema, schema(ap as Json))]));
  if (typeof s.type === 'string') parts.push(msg(S.type, str(F.TypeItem.value, s.type)));
  if (s.items && typeof s.items === 'object') parts.push(msg(S.items, [msg(F.ItemsItem.schema, schema(s.items as Json))]));
  if (allOf && !ref) for (const sub of allOf) parts.push(msg(S.allOf, schema(sub)));
  const props = s.properties as Record<string, Json> | undefined;
  if (props) parts.push(msg(S.properties, Object.entries(props).map(([k, v]) => named(F.Definitions.additionalProperties, k, schema(v)))));
  parts.push(...extensions(S.vendorExtension, s));
  return parts;
}

function parameter(p: Json): Buffer[] {
  if (p.in === 'body') {
    const B = F.BodyParameter;
    const body = [...str(B.description, p.description as string), ...str(B.name, p.name as string), ...str(B.in, 'body'), ...bool(B.required, p.required)];
    if (p.schema) body.push(msg(B.schema, schema(p.schema as Json)));
    return [msg(F.ParametersItem.parameter, [msg(F.Parameter.bodyParameter, body)])];
  }
  const query = p.in === 'query' || p.in === 'formData';
  const P = query ? F.QueryParameter : F.PathParameter;
  const sub = [
    ...bool(P.required, p.required),
    ...str(P.in, p.in as string),
    ...str(P.description, p.description as string | undefined),
    ...str(P.name, p.name as string),
    ...str(P.type, p.type as string | undefined),
    ...bool(P.uniqueItems, p.uniqueItems),
  ];
  const which = { query: F.NonBodyParameter.query, formData: F.NonBodyParameter.formData, path: F.NonBodyParameter.path, header: F.NonBodyParameter.header }[p.in as string] ?? F.NonBodyParameter.query;
  return [msg(F.ParametersItem.parameter, [msg(F.Parameter.nonBodyParameter, [msg(which, sub)])])];
}

function operation(op: Json): Buffer[] {
  const O = F.Operation;
  const parts: Buffer[] = [];
  for (const t of (op.tags as string[] | undefined) ?? []) parts.push(...str(O.tags, t));
  parts.push(...str(O.description, op.description as string | undefined), ...str(O.operationId, op.operationId as string | undefined));
  for (const p of (op.parameters as Json[] | undefined) ?? []) parts.push(msg(O.parameters, parameter(p)));
  const responses = op.responses as Record<string, Json> | undefined;
  if (responses) {
    const codes = Object.entries(responses).map(([code, r]) => {
      const resp = [...str(F.Response.description, r.description as string | undefined)];
      if (r.schema) resp.push(msg(F.Response.schema, [msg(F.SchemaItem.schema, schema(r.schema as Json))]));
      return named(F.Responses.responseCode, code, [msg(F.ResponseValue.response, resp)]);
    });
    parts.push(msg(O.responses, codes));
  }
  parts.push(...extensions(O.vendorExtension, op));
  return parts;
}

function pathItem(item: Record<string, Json>): Buffer[] {
  const parts: Buffer[] = [];
  for (const [verb, field] of Object.entries(F.PathItem)) if (item[verb]) parts.push(msg(field, operation(item[verb])));
  return parts;
}

/** The v2 document (`{swagger, info, paths, definitions}`, as served in JSON) as an openapi.v2.Document. */
export function encodeOpenapiV2(doc: Json): Buffer {
  const D = F.Document;
  const info = (doc.info ?? {}) as Json;
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  const defs = (doc.definitions ?? {}) as Record<string, Json>;
  return Buffer.concat([
    ...str(D.swagger, (doc.swagger as string | undefined) ?? '2.0'),
    msg(D.info, [...str(F.Info.title, info.title as string | undefined), ...str(F.Info.version, info.version as string | undefined)]),
    msg(
      D.paths,
      Object.entries(paths).map(([p, item]) => named(F.Paths.path, p, pathItem(item))),
    ),
    msg(
      D.definitions,
      Object.entries(defs).map(([name, s]) => named(F.Definitions.additionalProperties, name, schema(s))),
    ),
  ]);
}

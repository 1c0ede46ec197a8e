// Generates definitions.json: the OpenAPI (v2 "definitions" style) schemas of every type reachable from
// the kinds kubelab serves, with the official field descriptions, from the declaration files of the
// `kubernetes-types` package (Apache-2.0; generated from Kubernetes' own OpenAPI spec). Run it after
// changing the served resources or upgrading kubernetes-types:
//   node apiserver/rest/openapi/generate.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const typesDir = join(here, '../../../node_modules/kubernetes-types');

/** module path (relative to kubernetes-types) → OpenAPI definition prefix */
function prefixOf(mod) {
  if (mod === 'meta/v1') return 'io.k8s.apimachinery.pkg.apis.meta.v1';
  if (mod === 'api/resource') return 'io.k8s.apimachinery.pkg.api.resource';
  if (mod === 'runtime') return 'io.k8s.apimachinery.pkg.runtime';
  if (mod === 'util/intstr') return 'io.k8s.apimachinery.pkg.util.intstr';
  return `io.k8s.api.${mod.replace('/', '.')}`;
}

/** Roots: the served kinds plus the subresource bodies kubectl sends. */
const ROOTS = {
  'core/v1': ['Namespace', 'Node', 'Pod', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'ServiceAccount', 'Event', 'PersistentVolume', 'PersistentVolumeClaim', 'Binding'],
  'apps/v1': ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ControllerRevision'],
  'batch/v1': ['Job', 'CronJob'],
  'coordination/v1': ['Lease'],
  'storage/v1': ['StorageClass'],
  'autoscaling/v1': ['Scale'],
  'autoscaling/v2': ['HorizontalPodAutoscaler'],
  'policy/v1': ['Eviction', 'PodDisruptionBudget'],
  'scheduling/v1': ['PriorityClass'],
  'discovery/v1': ['EndpointSlice'],
  'networking/v1': ['IngressClass', 'Ingress'],
  'authorization/v1': ['SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SubjectAccessReview', 'LocalSubjectAccessReview'],
  'authentication/v1': ['SelfSubjectReview', 'TokenReview', 'TokenRequest'],
  'rbac/v1': ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'],
  'meta/v1': ['DeleteOptions', 'Status', 'APIResourceList'],
};

/** Strategic-merge list metadata, as in the official spec (merge key per field name). */
const MERGE_KEYS = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name', env: 'name', volumes: 'name',
  volumeMounts: 'mountPath', volumeDevices: 'devicePath', imagePullSecrets: 'name', hostAliases: 'ip',
  conditions: 'type', ownerReferences: 'uid', topologySpreadConstraints: 'topologyKey',
};

const modules = new Map();
function loadModule(mod) {
  if (modules.has(mod)) return modules.get(mod);
  const file = join(typesDir, `${mod}.d.ts`);
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const decls = new Map();
  const imports = new Map();
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const from = st.moduleSpecifier.text;
      const target = join(dirname(mod), from).replace(/\\/g, '/').replace(/^\.\//, '');
      for (const el of st.importClause?.namedBindings?.elements ?? []) imports.set(el.name.text, target);
    } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) decls.set(st.name.text, st);
  }
  const m = { mod, sf, decls, imports };
  modules.set(mod, m);
  return m;
}

function docOf(node) {
  const tags = ts.getJSDocCommentsAndTags(node);
  for (const t of tags) if (ts.isJSDoc(t) && typeof t.comment === 'string') return t.comment.trim();
  return undefined;
}

const definitions = {};
const queue = [];
function refTo(mod, name) {
  const m = loadModule(mod);
  const alias = m.decls.get(name);
  const defName = `${prefixOf(mod)}.${name}`;
  if (!definitions[defName] && !queue.some((q) => q.defName === defName)) queue.push({ mod, name, defName });
  void alias;
  return { $ref: `#/definitions/${defName}` };
}

function schemaOf(m, typeNode) {
  switch (typeNode.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: 'string' };
    case ts.SyntaxKind.NumberKeyword:
      return { type: 'integer', format: 'int32' };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: 'boolean' };
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
      return { type: 'object' };
    default:
      break;
  }
  if (ts.isArrayTypeNode(typeNode)) return { type: 'array', items: schemaOf(m, typeNode.elementType) };
  if (ts.isParenthesizedTypeNode(typeNode)) return schemaOf(m, typeNode.type);
  if (ts.isLiteralTypeNode(typeNode)) return { type: 'string', enum: [typeNode.literal.text] };
  if (ts.isUnionTypeNode(typeNode)) {
    const kinds = typeNode.types.map((t) => t.kind);
    if (kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword))
      return { type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true };
    if (typeNode.types.every((t) => ts.isLiteralTypeNode(t))) return { type: 'string', enum: typeNode.types.map((t) => t.literal.text) };
    return schemaOf(m, typeNode.types[0]);
  }
  if (ts.isTypeLiteralNode(typeNode)) {
    const index = typeNode.members.find((mem) => ts.isIndexSignatureDeclaration(mem));
    if (index) return { type: 'object', additionalProperties: schemaOf(m, index.type) };
    return { type: 'object' };
  }
  if (ts.isTypeReferenceNode(typeNode)) {
    const name = typeNode.typeName.getText(m.sf);
    if (name === 'Array' || name === 'ReadonlyArray') return { type: 'array', items: schemaOf(m, typeNode.typeArguments[0]) };
    if (name === 'Record') return { type: 'object', additionalProperties: schemaOf(m, typeNode.typeArguments[1]) };
    const mod = m.decls.has(name) ? m.mod : m.imports.get(name);
    if (!mod) return { type: 'object' };
    return refTo(mod, name);
  }
  return { type: 'object' };
}

function build(mod, name, defName) {
  const m = loadModule(mod);
  const decl = m.decls.get(name);
  if (!decl) {
    definitions[defName] = { type: 'object' };
    return;
  }
  const description = docOf(decl);
  if (ts.isTypeAliasDeclaration(decl)) {
    const s = schemaOf(m, decl.type);
    if (name === 'Time') Object.assign(s, { format: 'date-time' });
    if (name === 'MicroTime') Object.assign(s, { format: 'date-time' });
    definitions[defName] = { ...(description ? { description } : {}), ...s };
    return;
  }
  const properties = {};
  const required = [];
  for (const mem of decl.members) {
    if (!ts.isPropertySignature(mem) || !mem.type) continue;
    const pname = mem.name.getText(m.sf).replace(/^"|"$/g, '');
    let s = schemaOf(m, mem.type);
    if ((pname === 'apiVersion' || pname === 'kind') && s.enum) s = { type: 'string' };
    const d = docOf(mem);
    if (s.$ref) s = { allOf: [s], ...(d ? { description: d } : {}) };
    else if (d) s = { description: d, ...s };
    if (s.type === 'array' && MERGE_KEYS[pname] && s.items?.$ref) {
      s['x-kubernetes-patch-merge-key'] = MERGE_KEYS[pname];
      s['x-kubernetes-patch-strategy'] = 'merge';
    }
    properties[pname] = s;
    if (!mem.questionToken) required.push(pname);
  }
  const def = { ...(description ? { description } : {}), type: 'object', properties };
  if (required.length) def.required = required;
  const group = mod.split('/')[0] === 'core' ? '' : mod === 'meta/v1' ? '' : mod.split('/')[0];
  const rootKinds = ROOTS[mod] ?? [];
  if (rootKinds.includes(name) && 'kind' in properties) {
    const g = group === 'coordination' || group === 'storage' ? `${group}.k8s.io` : group;
    def['x-kubernetes-group-version-kind'] = [{ group: g, version: mod.split('/')[1] ?? 'v1', kind: name }];
  }
  definitions[defName] = def;
}

for (const [mod, names] of Object.entries(ROOTS)) for (const n of names) refTo(mod, n);
while (queue.length) {
  const next = queue.shift();
  build(next.mod, next.name, next.defName);
}
const sorted = Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(join(here, 'definitions.json'), JSON.stringify(sorted) + '\n');
console.log(`wrote ${Object.keys(sorted).length} definitions`);

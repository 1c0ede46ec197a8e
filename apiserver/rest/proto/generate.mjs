// Generates messages.json: the protobuf field tables of the Kubernetes API types kubelab serves, so the
// REST facade can decode `application/vnd.kubernetes.protobuf` request bodies (kubectl ≥ 1.31 sends its
// typed-client writes — create configmap/deployment/secret, drain's evictions — in protobuf only).
// Source: the gzipped FileDescriptorProtos of k8s.io/api and k8s.io/apimachinery (Apache-2.0) that Go
// embeds in a kubectl binary. Run: node apiserver/rest/proto/generate.mjs [path/to/kubectl]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import descriptor from 'protobufjs/ext/descriptor/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = readFileSync(process.argv[2] ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.33');
const WANT = [
  'k8s.io/api/core/v1/generated.proto', 'k8s.io/api/apps/v1/generated.proto', 'k8s.io/api/batch/v1/generated.proto',
  'k8s.io/api/coordination/v1/generated.proto', 'k8s.io/api/storage/v1/generated.proto', 'k8s.io/api/autoscaling/v1/generated.proto',
  'k8s.io/api/policy/v1/generated.proto', 'k8s.io/api/scheduling/v1/generated.proto', 'k8s.io/api/discovery/v1/generated.proto',
  'k8s.io/api/authorization/v1/generated.proto', 'k8s.io/api/authentication/v1/generated.proto',
  'k8s.io/api/rbac/v1/generated.proto', 'k8s.io/api/networking/v1/generated.proto',
  'k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto',
  'k8s.io/apimachinery/pkg/api/resource/generated.proto', 'k8s.io/apimachinery/pkg/util/intstr/generated.proto',
  'k8s.io/apimachinery/pkg/runtime/generated.proto',
];
const files = new Map();
const magic = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0]);
for (let i = bin.indexOf(magic); i >= 0; i = bin.indexOf(magic, i + 1)) {
  let raw;
  try {
    raw = gunzipSync(bin.subarray(i, i + 2_000_000), { finishFlush: 2 });
  } catch {
    continue;
  }
  let fd;
  try {
    fd = descriptor.FileDescriptorProto.decode(raw);
  } catch {
    continue;
  }
  if (WANT.includes(fd.name) && !files.has(fd.name)) files.set(fd.name, fd);
}
const messages = {};
// field types: 1 double 2 float 3 int64 4 uint64 5 int32 8 bool 9 string 11 message 12 bytes 13 uint32 14 enum 17 sint32 18 sint64
function add(pkg, msg, prefix) {
  const full = `${prefix}.${msg.name}`;
  const nested = new Map((msg.nestedType ?? []).map((n) => [n.name, n]));
  for (const n of msg.nestedType ?? []) add(pkg, n, full);
  messages[full.slice(1)] = {
    ...(msg.options?.mapEntry ? { map: true } : {}),
    fields: (msg.field ?? []).map((f) => {
      const out = [f.number, f.name, f.type];
      const flags = (f.label === 3 ? 1 : 0);
      out.push(flags);
      if (f.typeName) out.push(f.typeName.replace(/^\./, ''));
      return out;
    }),
  };
  void nested;
}
for (const fd of files.values()) for (const m of fd.messageType ?? []) add(fd.package, m, `.${fd.package}`);
writeFileSync(join(here, 'messages.json'), JSON.stringify(messages) + '\n');
console.log(`wrote ${Object.keys(messages).length} messages from ${files.size} files: ${[...files.keys()].join(' ')}`);

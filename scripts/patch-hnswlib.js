// Teaches hnswlib-node 3.0.0 to take a Float32Array in addPoint/searchKnn, then rebuilds it.
//
// Why: its addon reads a plain Array one N-API call per element. For a 512-d query that is
// ~31 µs of a ~115 µs search at 10k vectors (measured with `npm run bench`); a Float32Array is
// one memcpy. Arrays keep working, so the stock addon and the patched one take the same calls,
// and src/vector-index/hnsw.ts reads `semrouteTypedArrays` to know which path it has.
//
// Idempotent (a marker in each patched file) and loud: if the source is not the one this patch was
// written against, nothing is changed and the warning says so; search still works, slower.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { renewHiddenLockfile } from './hidden-lockfile.js';

const MARKER = '// semroute: typed-array patch v1';

const HELPERS = `${MARKER}
#include <cstring>
namespace semroute {
inline bool isFloat32(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
}
inline uint32_t length(const Napi::Value& v) {
  if (isFloat32(v)) return static_cast<uint32_t>(v.As<Napi::Float32Array>().ElementLength());
  return v.As<Napi::Array>().Length();
}
inline void read(const Napi::Value& v, std::vector<float>& out) {
  if (isFloat32(v)) {
    std::memcpy(out.data(), v.As<Napi::Float32Array>().Data(), out.size() * sizeof(float));
    return;
  }
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < out.size(); i++) {
    Napi::Value val = arr[i];
    out[i] = val.As<Napi::Number>().FloatValue();
  }
}
#if defined(__AVX512F__)
constexpr const char* simd = "avx512";
#elif defined(__AVX2__)
constexpr const char* simd = "avx2";
#elif defined(__AVX__)
constexpr const char* simd = "avx";
#else
constexpr const char* simd = "sse";
#endif
}  // namespace semroute
`;

/** [before, after, how many times `before` must occur] */
const EDITS = [
  ['#include <napi.h>\n', `#include <napi.h>\n${HELPERS}`, 1],
  [
    `    if (!info[0].IsArray()) {
      Napi::TypeError::New(env, "Invalid the first argument type, must be an Array.").ThrowAsJavaScriptException();
      return env.Null();
    }
    if (!info[1].IsNumber()) {`,
    `    if (!info[0].IsArray() && !semroute::isFloat32(info[0])) {
      Napi::TypeError::New(env, "Invalid the first argument type, must be an Array or a Float32Array.").ThrowAsJavaScriptException();
      return env.Null();
    }
    if (!info[1].IsNumber()) {`,
    4,
  ],
  [
    `    Napi::Array arr = info[0].As<Napi::Array>();
    if (arr.Length() != dim_) {
      Napi::Error::New(env, "Invalid the given array length (expected " + std::to_string(dim_) + ", but got " +
                              std::to_string(arr.Length()) + ").")`,
    `    const uint32_t given_length = semroute::length(info[0]);
    if (given_length != dim_) {
      Napi::Error::New(env, "Invalid the given array length (expected " + std::to_string(dim_) + ", but got " +
                              std::to_string(given_length) + ").")`,
    4,
  ],
  [
    `    std::vector<float> vec(dim_, 0.0);
    for (uint32_t i = 0; i < dim_; i++) {
      Napi::Value val = arr[i];
      vec[i] = val.As<Napi::Number>().FloatValue();
    }`,
    `    std::vector<float> vec(dim_, 0.0);
    semroute::read(info[0], vec);`,
    4,
  ],
  [
    '  HierarchicalNSW::Init(env, exports);\n  return exports;',
    '  HierarchicalNSW::Init(env, exports);\n  exports.Set("semrouteTypedArrays", Napi::Boolean::New(env, true));\n  exports.Set("semrouteSimd", Napi::String::New(env, semroute::simd));\n  return exports;',
    1,
  ],
];

/**
 * hnswlib keeps 65,536 mutexes per index for concurrent updates of one label (2.6 MB, and a
 * second set allocated at every load): 9 ms of reading a 151-vector index here, most of it page
 * faults, and 5 MB of every router's memory. semroute adds from one thread; 256 locks keep the
 * same locking, any power of two does.
 */
const LOCKS_MARKER = '// semroute: label-locks patch v1';
const HEADER_EDITS = [
  [
    'static const tableint MAX_LABEL_OPERATION_LOCKS = 65536;',
    `static const tableint MAX_LABEL_OPERATION_LOCKS = 256;  ${LOCKS_MARKER}`,
    1,
  ],
];

/** The patched text of `source`, or a reason it is not the source the edits were written for. */
function applyEdits(source, edits, name) {
  let patched = source;
  for (const [before, after, times] of edits) {
    const found = count(patched, before);
    if (found !== times)
      return { error: `${name} has ${found} copies of a patched block, expected ${times}` };
    patched = patched.replaceAll(before, after);
  }
  return { patched };
}

function warn(message) {
  console.warn(
    `semroute: hnswlib-node left as shipped (${message}); HNSW search copies each query element by element`,
  );
}

function count(text, part) {
  return text.split(part).length - 1;
}

/** npm sets npm_config_node_gyp in lifecycle scripts; by hand, use the node-gyp bundled with npm. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    ),
  ];
  return candidates.find((file) => file && existsSync(file));
}

/**
 * AVX2 + FMA when the CPU building the addon has them (it is the one that will run it: npm
 * builds from source at install). The distance loops are then 8 floats wide: search at 10k
 * vectors went from ~100 to ~60 µs p50 here. SEMROUTE_HNSW_PORTABLE=1 builds for any x86-64,
 * for an image built on one machine and run on an older one.
 */
function simdFlags() {
  if (process.env.SEMROUTE_HNSW_PORTABLE === '1' || process.arch !== 'x64') return '';
  let cpu = '';
  try {
    cpu = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
  return /\bavx2\b/.test(cpu) && /\bfma\b/.test(cpu) ? '-mavx2 -mfma' : '';
}

/** Node's own headers, so node-gyp does not try to download them (the install is offline). */
function nodeHeaders() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function main() {
  let dir;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('hnswlib-node/package.json'));
  } catch {
    return warn('not installed');
  }
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (version !== '3.0.0') return warn(`version ${version}, the patch is for 3.0.0`);
  const files = [
    { file: path.join(dir, 'src', 'addon.cc'), marker: MARKER, edits: EDITS },
    { file: path.join(dir, 'src', 'hnswlib', 'hnswalg.h'), marker: LOCKS_MARKER, edits: HEADER_EDITS },
  ].map((f) => ({ ...f, source: readFileSync(f.file, 'utf8') }));
  const built = existsSync(path.join(dir, 'build', 'Release', 'addon.node'));
  if (files.every((f) => f.source.includes(f.marker)) && built) return;

  // All or nothing: a half-patched addon would be a build no one tested.
  for (const f of files) {
    if (f.source.includes(f.marker)) {
      f.patched = f.source;
      continue;
    }
    const { patched, error } = applyEdits(f.source, f.edits, path.basename(f.file));
    if (error) return warn(error);
    f.patched = patched;
  }
  const gyp = nodeGyp();
  if (!gyp) return warn('node-gyp not found');
  for (const f of files) writeFileSync(f.file, f.patched);
  const args = [gyp, 'rebuild'];
  const headers = nodeHeaders();
  if (headers) args.push(`--nodedir=${headers}`);
  const env = { ...process.env, CXXFLAGS: `${process.env.CXXFLAGS ?? ''} ${simdFlags()}`.trim() };
  try {
    execFileSync(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    // The stock source built here a moment ago: put it back and rebuild, so search still works.
    for (const f of files) writeFileSync(f.file, f.source);
    try {
      execFileSync(process.execPath, args, { cwd: dir, stdio: 'ignore' });
    } catch {
      console.warn('semroute: hnswlib-node could not be rebuilt either; run `npm rebuild hnswlib-node`');
    }
    return warn(`the patched addon did not build: ${String(error.stderr ?? error).slice(-400)}`);
  }
}

main();
try {
  renewHiddenLockfile(path.dirname(createRequire(import.meta.url).resolve('hnswlib-node/package.json')));
} catch {
  // hnswlib-node is not installed: nothing was written under node_modules.
}

// Uploads through the GraphQL multipart request spec
// (https://github.com/jaydenseric/graphql-multipart-request-spec): the files found in the
// variables become parts of a multipart/form-data body, their places in the variables null.

/** React Native's file reference, which its FormData sends by reading the file at `uri`. */
export interface ReactNativeFile {
  readonly uri: string;
  readonly name: string;
  readonly type: string;
}

/** What a File variable takes: a Blob or File, a Node Buffer (any Uint8Array), or a React Native file. */
export type Upload = Blob | Uint8Array | ReactNativeFile;

interface FoundFile {
  /** A Blob (Uint8Arrays wrapped into one) or a React Native file reference. */
  readonly file: Blob | ReactNativeFile;
  readonly name: string | undefined;
  /** Object paths in the operations JSON, e.g. `variables.input.file`. */
  readonly paths: string[];
}

export interface ExtractedFiles {
  /** The variables with each file replaced by null. */
  readonly variables: unknown;
  readonly files: readonly FoundFile[];
}

const hasBlob = (): boolean => typeof Blob !== 'undefined';

function isReactNativeFile(value: object): value is ReactNativeFile {
  const v = value as Partial<Record<keyof ReactNativeFile, unknown>>;
  return typeof v.uri === 'string' && typeof v.name === 'string' && typeof v.type === 'string' && Object.keys(value).length <= 3;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The files in `variables`, or null when there are none (the request is then plain JSON). */
export function extractFiles(variables: unknown): ExtractedFiles | null {
  const found = new Map<object, { file: Blob | ReactNativeFile; name: string | undefined; paths: string[] }>();

  const walk = (value: unknown, path: string): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    let file: Blob | ReactNativeFile | undefined;
    let name: string | undefined;
    if (hasBlob() && value instanceof Blob) {
      file = value;
      name = typeof (value as { name?: unknown }).name === 'string' ? (value as File).name : undefined;
    } else if (ArrayBuffer.isView(value) && value instanceof Uint8Array) {
      if (!hasBlob()) throw new TypeError('This platform has no Blob: pass a file as { uri, name, type } (React Native) instead of bytes.');
      // A Node Buffer or any Uint8Array: its bytes (the view only, not the whole pool) as a Blob.
      file = new Blob([value.slice() as Uint8Array<ArrayBuffer>]);
      name = 'upload';
    } else if (isReactNativeFile(value)) {
      file = value;
      name = value.name;
    }
    if (file) {
      const entry = found.get(value) ?? { file, name, paths: [] };
      entry.paths.push(path);
      found.set(value, entry);
      return null;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}.${i}`));
    if (!isPlainObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item, `${path}.${key}`);
    return out;
  };

  const replaced = walk(variables, 'variables');
  return found.size === 0 ? null : { variables: replaced, files: [...found.values()] };
}

/** The multipart body: `operations` (the request, files null), `map` (part → paths), then one part per file. */
export function multipartBody(operations: Record<string, unknown>, files: readonly FoundFile[]): FormData {
  const form = new FormData();
  form.append('operations', JSON.stringify(operations));
  const map: Record<string, string[]> = {};
  files.forEach((f, i) => (map[String(i)] = f.paths));
  form.append('map', JSON.stringify(map));
  files.forEach((f, i) => {
    if (hasBlob() && f.file instanceof Blob) form.append(String(i), f.file, f.name ?? 'blob');
    // React Native's FormData reads the file at `uri` itself.
    else form.append(String(i), f.file as unknown as Blob);
  });
  return form;
}

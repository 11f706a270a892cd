/**
 * Streaming readers for the import command: physical lines from a byte stream, CSV records
 * (RFC 4180) and JSON lines, each with the line number it starts on. Nothing here holds more than
 * one record (and, for a record that runs away in an unclosed quote, at most MAX_RECORD_CHARS of
 * it) in memory, whatever the size of the file.
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

/** A physical line, without its line break. */
export interface Line {
  /** From 1. */
  no: number;
  text: string;
  /** Set when the line was too long to keep: `text` is empty and the line is to be rejected. */
  tooLong?: boolean;
  /** Set when the line's bytes are not text in the file's encoding: `text` is empty and the line is to be rejected. */
  badEncoding?: boolean;
  /** Bytes of the input up to the end of this line (estimated within its chunk): for progress. */
  end: number;
}

/** A line longer than this is rejected (its text is dropped as it streams), so memory stays flat. */
export const MAX_LINE_CHARS = 1 << 20;
/** A quoted field may hold line breaks; a record spanning more than this is an unclosed quote. */
export const MAX_RECORD_LINES = 100;
export const MAX_RECORD_CHARS = 1 << 20;

/**
 * The encodings a file may be in. UTF-8 is the default and is decoded strictly: a byte sequence
 * that is not UTF-8 (a GBK export read as UTF-8) makes its line an error, never U+FFFD in a name.
 * GB18030 (a superset of GBK and GB2312, what Chinese banks' systems export) is decoded by
 * iconv-lite when asked for.
 */
export const TEXT_ENCODINGS = ['utf-8', 'gb18030'] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];

/** `utf8`, `UTF-8`, `gbk`, `GB2312`, `gb18030` → the encoding that reads it; null if unknown. */
export function textEncodingOf(name: string): TextEncoding | null {
  const n = name.trim().toLowerCase().replace(/[^a-z0-9]/g, '');
  if (n === 'utf8') return 'utf-8';
  if (n === 'gb18030' || n === 'gbk' || n === 'gb2312' || n === 'cp936') return 'gb18030';
  return null;
}

/** Decodes complete lines; null when the bytes are not valid in the encoding. */
function strictDecoder(encoding: TextEncoding): (bytes: Buffer) => string | null {
  if (encoding === 'utf-8') return (b) => (isUtf8(b) ? b.toString('utf8') : null);
  // iconv-lite puts U+FFFD where bytes are not GB18030; a file never holds one on purpose.
  return (b) => {
    const text = iconv.decode(b, 'gb18030', { stripBOM: false });
    return text.includes('\uFFFD') ? null : text;
  };
}

/** Stands for a line whose bytes were not in the encoding, in the decoded text (a noncharacter: never in data). */
const BAD_LINE = '\uFFFF\uE000bad-encoding\uE000\uFFFF';

/**
 * The text of a stream of bytes, strictly decoded, in pieces that end at a line break (bar the
 * last): a multi-byte character is never cut, and a line that is not in the encoding is replaced
 * by BAD_LINE so that the reader can reject it with its number. LF never occurs inside a UTF-8 or
 * GB18030 character, so lines are found in the bytes.
 */
async function* decodeText(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, encoding: TextEncoding, onBytes?: (n: number) => void): AsyncGenerator<{ text: string; bytes: number }> {
  const decode = strictDecoder(encoding);
  const lenient = (b: Buffer) => (encoding === 'utf-8' ? b.toString('utf8') : iconv.decode(b, 'gb18030'));
  const complete = (part: Buffer): string => {
    const text = decode(part);
    if (text !== null) return text;
    // Some line is not in the encoding: find which, line by line.
    const out: string[] = [];
    let start = 0;
    while (start < part.length) {
      const nl = part.indexOf(0x0a, start);
      const end = nl === -1 ? part.length : nl;
      const line = decode(part.subarray(start, end));
      out.push(line === null ? BAD_LINE : line);
      if (nl === -1) break;
      out.push('\n');
      start = nl + 1;
    }
    return out.join('');
  };
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    onBytes?.(bytes.length);
    const buf = carry.length ? Buffer.concat([carry, bytes]) : bytes;
    const lastNl = buf.lastIndexOf(0x0a);
    if (lastNl === -1) {
      if (buf.length > 4 * MAX_LINE_CHARS) {
        // A runaway line: it will be rejected as too long, its text does not matter.
        yield { text: lenient(buf), bytes: bytes.length };
        carry = Buffer.alloc(0);
      } else {
        carry = buf;
        yield { text: '', bytes: bytes.length };
      }
      continue;
    }
    yield { text: complete(buf.subarray(0, lastNl + 1)), bytes: bytes.length };
    carry = Buffer.from(buf.subarray(lastNl + 1));
  }
  if (carry.length) yield { text: complete(carry), bytes: 0 };
}

/**
 * The lines of a stream of bytes (UTF-8 unless told; a leading byte order mark is dropped). LF
 * and CRLF both end a line; a last line without a break is a line. `onBytes` is told of every
 * chunk read, for a progress bar. Pull-based: the stream is read only as fast as the lines are
 * consumed. A line not in the encoding comes with `badEncoding`.
 */
export async function* readLines(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  onBytes?: (n: number) => void,
  encoding: TextEncoding = 'utf-8',
): AsyncGenerator<Line> {
  let carry = '';
  let no = 0;
  let first = true;
  let skipping = false; // inside a line longer than MAX_LINE_CHARS: drop until its end
  let consumed = 0; // bytes before the current chunk
  const emit = (text: string, end: number): Line => {
    no++;
    if (skipping) {
      skipping = false;
      return { no, text: '', tooLong: true, end };
    }
    if (text === BAD_LINE || text === `${BAD_LINE}\r`) return { no, text: '', badEncoding: true, end };
    return { no, text: text.endsWith('\r') ? text.slice(0, -1) : text, end };
  };
  for await (const piece of decodeText(input, encoding, onBytes)) {
    const bytes = piece.bytes;
    let text = piece.text;
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const perChar = text.length ? bytes / text.length : 0;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      const whole = carry ? carry + piece : piece;
      carry = '';
      yield emit(whole, consumed + Math.round(start * perChar));
    }
    if (start < text.length) {
      carry += text.slice(start);
      if (carry.length > MAX_LINE_CHARS) {
        skipping = true;
        carry = '';
      }
    }
    consumed += bytes;
  }
  if (carry.length > 0 || skipping) yield emit(carry, consumed);
}

/** The number of the first line of a file that is not in the encoding, or null: read before an import writes anything. */
export async function firstBadLine(input: AsyncIterable<Buffer | string>, encoding: TextEncoding): Promise<number | null> {
  for await (const line of readLines(input, undefined, encoding)) if (line.badEncoding) return line.no;
  return null;
}

export type CsvRecord = { line: number; fields: string[] } | { line: number; error: string };

const enum S {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
}

/** An RFC 4180 record being scanned, fed one physical line at a time. */
class RecordScanner {
  fields: string[] = [];
  private field = '';
  private state = S.FieldStart;
  lines = 0;
  chars = 0;

  reset(): void {
    this.fields = [];
    this.field = '';
    this.state = S.FieldStart;
    this.lines = 0;
    this.chars = 0;
  }

  /** 'done' when the record ends with this line, 'more' inside a quoted field, or an error. */
  feed(text: string): 'done' | 'more' | { error: string } {
    this.lines++;
    this.chars += text.length + 1;
    if (this.lines > 1) this.field += '\n'; // the line break was inside a quoted field
    let state = this.state;
    let field = this.field;
    const fields = this.fields;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      switch (state) {
        case S.FieldStart:
          if (c === 0x22) state = S.Quoted;
          else if (c === 0x2c) fields.push('');
          else {
            field = text[i]!;
            state = S.Unquoted;
          }
          break;
        case S.Unquoted:
          if (c === 0x2c) {
            fields.push(field);
            field = '';
            state = S.FieldStart;
          } else if (c === 0x22) {
            return { error: `a double quote inside an unquoted field (field ${fields.length + 1}): quote the whole field and double the quote` };
          } else field += text[i];
          break;
        case S.Quoted: {
          const close = text.indexOf('"', i);
          if (close === -1) {
            field += text.slice(i);
            i = text.length;
          } else {
            field += text.slice(i, close);
            i = close;
            state = S.QuoteInQuoted;
          }
          break;
        }
        case S.QuoteInQuoted:
          if (c === 0x22) {
            field += '"';
            state = S.Quoted;
          } else if (c === 0x2c) {
            fields.push(field);
            field = '';
            state = S.FieldStart;
          } else {
            return { error: `a character after the closing quote of field ${fields.length + 1}` };
          }
          break;
      }
    }
    if (state === S.Quoted) {
      this.state = state;
      this.field = field;
      return 'more';
    }
    fields.push(field);
    this.field = '';
    this.state = S.FieldStart;
    return 'done';
  }
}

/**
 * CSV records (RFC 4180: comma separated, fields optionally in double quotes, a quote inside a
 * quoted field doubled, line breaks allowed inside quotes; LF or CRLF) with the line each starts
 * on. Blank lines are skipped. A malformed record is yielded as an error and reading goes on:
 * when a quote is left open, the record would swallow the lines after it, so only its first line
 * is rejected and the lines after it are read again as records of their own (a record may span at
 * most MAX_RECORD_LINES lines and MAX_RECORD_CHARS characters). `columns`, once known (set it
 * after the header), makes a record with another number of fields an error.
 */
export async function* readCsvRecords(lines: AsyncIterable<Line>, expect: { columns?: number } = {}): AsyncGenerator<CsvRecord> {
  const scanner = new RecordScanner();
  /** The lines of the record being scanned: replayed after its first if the record is malformed. */
  let pending: Line[] = [];
  const replay: Line[] = [];
  const source = lines[Symbol.asyncIterator]();
  let exhausted = false;

  const next = async (): Promise<Line | undefined> => {
    if (replay.length) return replay.shift();
    if (exhausted) return undefined;
    const r = await source.next();
    if (r.done) {
      exhausted = true;
      return undefined;
    }
    return r.value;
  };

  /** Rejects the first line of the pending record and reads the others again. */
  const rejectFirst = (error: string): CsvRecord => {
    const [head, ...rest] = pending;
    replay.unshift(...rest);
    pending = [];
    scanner.reset();
    return { line: head!.no, error };
  };

  const check = (line: number, fields: string[]): CsvRecord => {
    const n = expect.columns;
    if (n !== undefined && fields.length !== n) return { line, error: `expected ${n} fields, found ${fields.length}` };
    return { line, fields };
  };

  for (;;) {
    const line = await next();
    if (!line) {
      if (pending.length) {
        yield rejectFirst('unbalanced quote: a quoted field is never closed');
        continue;
      }
      return;
    }
    if (line.tooLong || line.badEncoding) {
      if (pending.length) {
        yield rejectFirst('unbalanced quote: a quoted field is never closed');
        replay.unshift(line);
        continue;
      }
      yield { line: line.no, error: line.tooLong ? `line longer than ${MAX_LINE_CHARS} characters` : 'not valid text in the encoding of the file (UTF-8 unless --encoding says otherwise)' };
      continue;
    }
    if (pending.length === 0) {
      if (line.text.length === 0 || /^\s+$/.test(line.text)) continue; // blank line
      if (line.text.indexOf('"') === -1) {
        // The common case: no quotes, one line, one split.
        yield check(line.no, line.text.split(','));
        continue;
      }
    }
    pending.push(line);
    const r = scanner.feed(line.text);
    if (r === 'more') {
      if (scanner.lines >= MAX_RECORD_LINES || scanner.chars > MAX_RECORD_CHARS) {
        yield rejectFirst('unbalanced quote: a quoted field is never closed');
      }
      continue;
    }
    if (r !== 'done') {
      yield pending.length > 1 ? rejectFirst(`unbalanced quote (${r.error})`) : rejectFirst(r.error);
      continue;
    }
    const first = pending[0]!.no;
    const record = check(first, scanner.fields);
    if ('error' in record && pending.length > 1) {
      yield rejectFirst(`unbalanced quote (${record.error})`);
      continue;
    }
    pending = [];
    scanner.reset();
    yield record;
  }
}

/** RFC 4180 quoting of one field, for writing CSV (the benchmark, tests). */
export function csvField(value: string | number | bigint | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A streaming CSV/TSV tokenizer (RFC 4180 quotes, `""` escapes, \n, \r\n or \r line ends, cells
 * trimmed, blank lines skipped, a UTF-8 BOM dropped) that holds every record to a budget while it
 * is being read: MAX_CSV_ROW_CHARS per row, MAX_COLUMNS per row and MAX_CSV_BYTES per file.
 * csv-parse, used before, cannot do this: it builds a whole record before anything can count its
 * columns, reports a quote left open at the line where the file ends (not where it opened), and
 * counts lines differently once blank lines are skipped (a record on line 4 came back as line 5).
 */
import type { FileHandle } from 'node:fs/promises';
import { failWith, MAX_COLUMNS, MAX_CSV_BYTES, MAX_CSV_ROW_CHARS, mib, type Pacer } from './limits';

export interface CsvLimits {
  readonly rowChars: number;
  readonly columns: number;
  readonly bytes: number;
}

export const CSV_LIMITS: CsvLimits = { rowChars: MAX_CSV_ROW_CHARS, columns: MAX_COLUMNS, bytes: MAX_CSV_BYTES };

/** Bytes read at a time: 64 KiB, well under a millisecond of tokenizing. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Calls `onRecord(cells, line)` for each record (`line` is 1-based, where the record starts)
 * until it returns false or the file or the byte budget ends. Returns true when the byte budget
 * cut the file (the partial last line is dropped, so the rows seen are whole). Throws DataFailure.
 */
export async function tokenizeCsv(handle: FileHandle, size: number, delimiter: string, pacer: Pacer, onRecord: (cells: string[], line: number) => boolean, limits: CsvLimits = CSV_LIMITS): Promise<boolean> {
  const delim = delimiter.charCodeAt(0);
  const decoder = new TextDecoder('utf-8'); // drops a leading BOM
  const limit = Math.min(size, limits.bytes);
  const cut = size > limits.bytes;
  const buffer = Buffer.alloc(CHUNK_BYTES);
  let line = 1; // line of the character being read
  let recordLine = 1;
  let quoteLine = 1;
  let cells: string[] = [];
  let field = ''; // the field so far, from earlier chunks
  let rowChars = 0; // characters of this record in earlier chunks
  let hasContent = false; // the record has a non-blank character (else it is a blank line)
  let quoted = false; // the current field is (or was) quoted
  // 0 field start, 1 unquoted, 2 in quotes, 3 just after a quote, 4 after a closed quoted field
  let state = 0;
  let afterCR = false;
  let stop = false;

  const endField = (value: string) => {
    cells.push(quoted ? value : value.trimEnd());
    if (cells.length > limits.columns) failWith({ error: `row has more than ${limits.columns.toLocaleString('en-US')} columns, the limit on a row's columns`, line: recordLine, column: limits.columns + 1 });
    field = '';
    quoted = false;
    state = 0;
  };
  const endRecord = () => {
    if (hasContent || cells.length > 0) {
      if (!onRecord(cells, recordLine)) stop = true;
    }
    cells = [];
    rowChars = 0;
    hasContent = false;
  };

  let position = 0;
  while (position < limit && !stop) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, limit - position), position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const text = decoder.decode(buffer.subarray(0, bytesRead), { stream: position < limit });
    const n = text.length;
    let start = 0; // start of the current field's text in this chunk
    let recordStart = 0; // where this record's characters in this chunk begin
    for (let i = 0; i < n && !stop; i++) {
      const c = text.charCodeAt(i);
      if (afterCR) {
        afterCR = false;
        if (c === 0x0a) {
          recordStart = start = i + 1;
          continue;
        }
      }
      const newline = c === 0x0a || c === 0x0d;
      if (state === 2) {
        if (c === 0x22) {
          field += text.slice(start, i);
          start = i + 1;
          state = 3;
        } else if (c === 0x0a) {
          line++; // a newline inside quotes is part of the cell (a lone \r is not counted as a line here)
        }
        continue;
      }
      if (state === 3) {
        if (c === 0x22) {
          // "" inside quotes: one quote.
          field += '"';
          start = i + 1;
          state = 2;
          continue;
        }
        state = 4;
      }
      if (c === delim || newline) {
        if (state === 1) field += text.slice(start, i);
        if (state !== 0 || c === delim || cells.length > 0) endField(field);
        if (newline) {
          endRecord();
          line++;
          recordLine = line;
          if (c === 0x0d) afterCR = true;
          recordStart = i + 1;
        }
        start = i + 1;
        continue;
      }
      const blank = c === 0x20 || c === 0x09 || c === 0xfeff;
      if (state === 0) {
        if (blank) {
          start = i + 1;
          continue;
        }
        hasContent = true;
        if (c === 0x22) {
          quoted = true;
          quoteLine = line;
          state = 2;
          start = i + 1;
        } else state = 1;
      } else if (state === 4 && !blank) {
        failWith({ error: 'a character after the closing quote of a field (write "" for a quote inside quotes)', line, column: cells.length + 1 });
      }
    }
    if (stop) break;
    // The rest of this chunk belongs to the record still open.
    if (state === 1 || state === 2) field += text.slice(start, n);
    rowChars += n - recordStart;
    if (rowChars > limits.rowChars) {
      if (state === 2) failWith({ error: `a quote opened here is not closed within ${mib(limits.rowChars)} (the limit on a row's characters)`, line: quoteLine, column: cells.length + 1 });
      failWith({ error: `row is longer than ${mib(limits.rowChars)}, the limit on a row's characters`, line: recordLine, column: cells.length + 1 });
    }
    await pacer.pause();
  }
  if (stop) return false;
  if (position < limit) failWith({ error: 'the file became shorter while it was read' });
  if (cut) return true; // the last, partial line is left out: only whole rows are used
  if (state === 2) failWith({ error: 'a quote opened here is not closed before the end of the file', line: quoteLine, column: cells.length + 1 });
  if (state !== 0 || cells.length > 0) endField(field);
  endRecord();
  return false;
}

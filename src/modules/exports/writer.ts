/**
 * Streaming file writers with flat memory: rows go out as they come, with backpressure.
 * CSV: csv-stringify (UTF-8, an optional byte-order mark for spreadsheet apps; text that a
 * spreadsheet would run as a formula is prefixed with an apostrophe). XLSX: ExcelJS's streaming
 * workbook writer (rows committed one by one, no shared-strings table held in memory).
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
// ExcelJS is loaded when the first XLSX file is written, not at start (280 ms of a cold start).
const excel = () => import('exceljs').then((m) => m.default);

export type Cell = string | number | boolean | null;

export interface RowWriter {
  write(row: Cell[]): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** OWASP "CSV injection": a text cell starting with = + - @ tab or CR is prefixed with an apostrophe (numbers are left alone). */
export function neutralise(cell: Cell): Cell {
  if (typeof cell !== 'string' || cell === '' || NUMBER.test(cell)) return cell;
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

export async function csvWriter(file: string, header: string[], options: { bom: boolean }): Promise<RowWriter> {
  const out = fs.createWriteStream(file, { flags: 'wx' });
  await once(out, 'open');
  const csv = stringify({ bom: options.bom, record_delimiter: 'windows', cast: { boolean: (b) => (b ? 'true' : 'false') } });
  csv.pipe(out);
  const put = async (row: Cell[]) => {
    if (!csv.write(row.map(neutralise))) await once(csv, 'drain');
  };
  await put(header);
  return {
    write: put,
    async close() {
      csv.end();
      await finished(out);
    },
    async abort() {
      csv.destroy();
      out.destroy();
      await fs.promises.rm(file, { force: true });
    },
  };
}

export async function xlsxWriter(file: string, header: string[], sheetName: string): Promise<RowWriter> {
  const ExcelJS = await excel();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useStyles: false, useSharedStrings: false });
  const sheet = workbook.addWorksheet(sheetName);
  sheet.addRow(header).commit();
  return {
    async write(row) {
      sheet.addRow(row).commit();
    },
    async close() {
      sheet.commit();
      await workbook.commit();
    },
    async abort() {
      try {
        sheet.commit();
        await workbook.commit();
      } catch {
        // the file is removed below either way
      }
      await fs.promises.rm(file, { force: true });
    },
  };
}

import { stringify } from 'csv-stringify/sync';
import type { FastifyReply as Response, FastifyRequest as Request } from 'fastify';
import accepts from 'accepts';
import type { ReportFormat } from './dto/report-query.dto.js';

export const CSV_MEDIA_TYPE = 'text/csv; charset=utf-8';

export type CsvCell = string | number | boolean | null;

export interface CsvColumn<T> {
  readonly header: string;
  readonly value: (row: T) => CsvCell;
}

/** A rendered report, ready to download. */
export interface CsvDocument {
  readonly filename: string;
  readonly content: string;
}

/**
 * RFC 4180 text (CRLF, quotes where needed) with a header line. Text cells that a spreadsheet would run as a
 * formula (starting with = + - @, tab or CR) get a leading apostrophe; numbers, negative ones included, stay
 * numbers. Nulls are empty cells, booleans true/false.
 */
export function toCsv<T>(columns: ReadonlyArray<CsvColumn<T>>, rows: readonly T[]): string {
  return stringify(
    rows.map((row) => columns.map((column) => column.value(row))),
    {
      header: true,
      columns: columns.map((column) => column.header),
      record_delimiter: 'windows',
      escape_formulas: true,
      cast: { boolean: (value) => (value ? 'true' : 'false') },
    },
  );
}

/** `?format=` wins; otherwise the Accept header, where JSON is preferred unless text/csv ranks higher. */
export function chooseReportFormat(format: ReportFormat | undefined, request: Request): ReportFormat {
  if (format !== undefined) return format;
  return accepts(request.raw).type(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json';
}

export function sendCsv(response: Response, document: CsvDocument): void {
  response
    .status(200)
    .header('Content-Type', CSV_MEDIA_TYPE)
    .header('Content-Disposition', `attachment; filename="${document.filename}"`)
    .header('Cache-Control', 'no-store')
    .send(document.content);
}

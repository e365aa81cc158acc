import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;

/** `?page=&per_page=`; extend it for list endpoints with filters. */
export class PaginationQueryDto {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PER_PAGE)
  per_page: number = DEFAULT_PER_PAGE;

  get offset(): number {
    return (this.page - 1) * this.per_page;
  }
}

export interface PageMeta {
  readonly page: number;
  readonly per_page: number;
  readonly total: number;
  readonly total_pages: number;
}

export interface PageLinks {
  readonly self: string;
  readonly first: string;
  readonly prev: string | null;
  readonly next: string | null;
  readonly last: string;
}

/** A page of results; the envelope interceptor spreads it into `data`, `meta` and `links`. */
export class Page<T> {
  constructor(
    readonly items: readonly T[],
    readonly total: number,
    readonly query: Pick<PaginationQueryDto, 'page' | 'per_page'>,
  ) {}

  get meta(): PageMeta {
    return {
      page: this.query.page,
      per_page: this.query.per_page,
      total: this.total,
      total_pages: Math.ceil(this.total / this.query.per_page),
    };
  }

  /** Links keep the request's other query parameters; they are relative so no Host header is trusted. */
  links(requestUrl: string): PageLinks {
    const { page, total_pages } = this.meta;
    const last = Math.max(total_pages, 1);
    const url = new URL(requestUrl, 'http://placeholder');
    const at = (target: number): string => {
      url.searchParams.set('page', String(target));
      url.searchParams.set('per_page', String(this.query.per_page));
      return `${url.pathname}?${url.searchParams.toString()}`;
    };
    return {
      self: at(page),
      first: at(1),
      prev: page > 1 ? at(Math.min(page - 1, last)) : null,
      next: page < last ? at(page + 1) : null,
      last: at(last),
    };
  }

  map<U>(project: (item: T) => U): Page<U> {
    return new Page(this.items.map(project), this.total, this.query);
  }
}

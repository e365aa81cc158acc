import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE, Page, PaginationQueryDto } from './pagination.js';

function query(page: number, perPage: number): PaginationQueryDto {
  return plainToInstance(PaginationQueryDto, { page, per_page: perPage });
}

describe('Page.meta', () => {
  it('reports page, per_page, total and the number of pages rounded up', () => {
    const page = new Page(['a', 'b'], 45, query(3, 20));

    expect(page.meta).toEqual({ page: 3, per_page: 20, total: 45, total_pages: 3 });
  });

  it('counts an exact multiple without an extra page', () => {
    expect(new Page([], 40, query(1, 20)).meta.total_pages).toBe(2);
  });

  it('counts a single partial page as one page', () => {
    expect(new Page([1], 1, query(1, 20)).meta.total_pages).toBe(1);
  });

  it('reports zero pages for an empty result', () => {
    const page = new Page([], 0, query(1, 20));

    expect(page.meta).toEqual({ page: 1, per_page: 20, total: 0, total_pages: 0 });
    expect(page.items).toEqual([]);
  });
});

describe('Page.links', () => {
  it('links to first, prev, next and last from a middle page', () => {
    const links = new Page([], 45, query(2, 20)).links('/api/v1/sites?page=2&per_page=20');

    expect(links).toEqual({
      self: '/api/v1/sites?page=2&per_page=20',
      first: '/api/v1/sites?page=1&per_page=20',
      prev: '/api/v1/sites?page=1&per_page=20',
      next: '/api/v1/sites?page=3&per_page=20',
      last: '/api/v1/sites?page=3&per_page=20',
    });
  });

  it('keeps the other query parameters in every link', () => {
    const links = new Page([], 100, query(2, 10)).links('/api/v1/sites?status=up&page=2&sort=name&per_page=10');

    for (const link of [links.self, links.first, links.prev, links.next, links.last]) {
      const params = new URLSearchParams((link ?? '').split('?')[1]);
      expect(params.get('status')).toBe('up');
      expect(params.get('sort')).toBe('name');
    }
    expect(links.next).toBe('/api/v1/sites?status=up&page=3&sort=name&per_page=10');
  });

  it('adds page and per_page when the request had neither', () => {
    const links = new Page([], 45, query(1, DEFAULT_PER_PAGE)).links('/api/v1/sites?q=web');

    expect(links.self).toBe('/api/v1/sites?q=web&page=1&per_page=20');
    expect(links.next).toBe('/api/v1/sites?q=web&page=2&per_page=20');
  });

  it('has no prev link on page 1', () => {
    const links = new Page([], 45, query(1, 20)).links('/items');

    expect(links.prev).toBeNull();
    expect(links.next).toBe('/items?page=2&per_page=20');
  });

  it('has no next link on the last page', () => {
    const links = new Page([], 45, query(3, 20)).links('/items?page=3');

    expect(links.next).toBeNull();
    expect(links.prev).toBe('/items?page=2&per_page=20');
    expect(links.last).toBe('/items?page=3&per_page=20');
  });

  it('points prev at the last page when the requested page is beyond it', () => {
    const links = new Page([], 45, query(7, 20)).links('/items?page=7');

    expect(links.self).toBe('/items?page=7&per_page=20');
    expect(links.prev).toBe('/items?page=3&per_page=20');
    expect(links.next).toBeNull();
    expect(links.last).toBe('/items?page=3&per_page=20');
  });

  it('treats an empty result as a single page', () => {
    const links = new Page([], 0, query(1, 20)).links('/items');

    expect(links).toEqual({
      self: '/items?page=1&per_page=20',
      first: '/items?page=1&per_page=20',
      prev: null,
      next: null,
      last: '/items?page=1&per_page=20',
    });
  });

  it('stays relative even when given an absolute URL, so no Host header ends up in a link', () => {
    const links = new Page([], 45, query(1, 20)).links('http://attacker.example/items?page=1');

    expect(links.next).toBe('/items?page=2&per_page=20');
  });

  it('replaces a repeated page parameter instead of appending another', () => {
    const links = new Page([], 45, query(2, 20)).links('/items?page=2&page=9');

    expect(links.next).toBe('/items?page=3&per_page=20');
  });
});

describe('Page.map', () => {
  it('projects the items and keeps total and query', () => {
    const source = new Page([{ id: 1 }, { id: 2 }], 12, query(2, 2));

    const mapped = source.map((item) => `site-${item.id}`);

    expect(mapped).toBeInstanceOf(Page);
    expect(mapped.items).toEqual(['site-1', 'site-2']);
    expect(mapped.meta).toEqual(source.meta);
    expect(source.items).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe('PaginationQueryDto', () => {
  it('defaults to page 1 of DEFAULT_PER_PAGE', () => {
    const dto = new PaginationQueryDto();

    expect(dto.page).toBe(1);
    expect(dto.per_page).toBe(DEFAULT_PER_PAGE);
    expect(dto.offset).toBe(0);
  });

  it.each([
    [1, 20, 0],
    [2, 20, 20],
    [3, 25, 50],
    [10, 100, 900],
  ])('page %p of %p starts at offset %p', (page, perPage, offset) => {
    expect(query(page, perPage).offset).toBe(offset);
  });

  it('converts query strings to numbers', () => {
    const dto = plainToInstance(PaginationQueryDto, { page: '4', per_page: '15' });

    expect(dto.page).toBe(4);
    expect(dto.per_page).toBe(15);
    expect(dto.offset).toBe(45);
    expect(validateSync(dto)).toEqual([]);
  });

  it.each([
    [{ page: 0 }, 'page'],
    [{ page: 1.5 }, 'page'],
    [{ page: 1_000_001 }, 'page'],
    [{ per_page: 0 }, 'per_page'],
    [{ per_page: MAX_PER_PAGE + 1 }, 'per_page'],
    [{ per_page: 'many' }, 'per_page'],
  ])('rejects %p', (input, property) => {
    const errors = validateSync(plainToInstance(PaginationQueryDto, input));

    expect(errors.map((error) => error.property)).toEqual([property]);
  });
});

import { describe, expect, it } from '@jest/globals';
import type { ArgumentMetadata, ValidationError } from '@nestjs/common';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsInt, IsOptional, IsString, Length, Min, ValidateNested, validate } from 'class-validator';
import { AppError, type ErrorDetail } from '../errors/app-error.js';
import { PaginationQueryDto } from '../pagination/pagination.js';
import { RequestValidationPipe, flattenValidationErrors } from './validation.pipe.js';

class ModuleDto {
  @IsString()
  @Length(1, 40)
  name!: string;
}

class OwnerDto {
  @IsString()
  email!: string;
}

class SiteDto {
  @IsString()
  @Length(1, 100)
  url!: string;

  @IsInt()
  @Min(1)
  port!: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => OwnerDto)
  owner?: OwnerDto;

  @IsOptional()
  @ArrayMaxSize(10)
  @ValidateNested({ each: true })
  @Type(() => ModuleDto)
  modules?: ModuleDto[];
}

class ListSitesQueryDto extends PaginationQueryDto {
  @IsOptional()
  @IsString()
  q?: string;
}

const bodyOf = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });
const queryOf = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'query', metatype });

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected the pipe to reject');
}

function failedFields(error: AppError): string[] {
  return (error.details as readonly ErrorDetail[]).map((detail) => detail.field);
}

function expectValidationFailure(error: AppError): void {
  expect(error.getStatus()).toBe(400);
  expect(error.code).toBe('VALIDATION_FAILED');
}

describe('flattenValidationErrors', () => {
  it('returns one entry per field with the constraint messages', () => {
    const errors: ValidationError[] = [
      { property: 'url', constraints: { isString: 'url must be a string', isLength: 'url is too long' }, children: [] },
      { property: 'port', constraints: { min: 'port must not be less than 1' }, children: [] },
    ];

    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'url', messages: ['url must be a string', 'url is too long'] },
      { field: 'port', messages: ['port must not be less than 1'] },
    ]);
  });

  it('prefixes nested children with the parent path and skips parents without constraints', () => {
    const errors: ValidationError[] = [
      {
        property: 'owner',
        children: [
          {
            property: 'address',
            children: [{ property: 'city', constraints: { isString: 'city must be a string' }, children: [] }],
          },
        ],
      },
    ];

    expect(flattenValidationErrors(errors)).toEqual([{ field: 'owner.address.city', messages: ['city must be a string'] }]);
  });

  it('keeps a parent that has its own constraints as well as failing children', () => {
    const errors: ValidationError[] = [
      {
        property: 'modules',
        constraints: { arrayMaxSize: 'modules must contain no more than 10 elements' },
        children: [
          {
            property: '0',
            children: [{ property: 'name', constraints: { isString: 'name must be a string' }, children: [] }],
          },
        ],
      },
    ];

    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'modules', messages: ['modules must contain no more than 10 elements'] },
      { field: 'modules.0.name', messages: ['name must be a string'] },
    ]);
  });

  it('returns nothing for no errors', () => {
    expect(flattenValidationErrors([])).toEqual([]);
  });

  it('names array children by index in the errors class-validator really produces', async () => {
    const site = Object.assign(new SiteDto(), {
      url: 'https://example.org',
      port: 443,
      owner: Object.assign(new OwnerDto(), { email: 7 }),
      modules: [
        Object.assign(new ModuleDto(), { name: 'views' }),
        Object.assign(new ModuleDto(), { name: 'node' }),
        Object.assign(new ModuleDto(), { name: 'user' }),
        Object.assign(new ModuleDto(), { name: 42 }),
      ],
    });

    const details = flattenValidationErrors(await validate(site));

    expect(details.map((detail) => detail.field)).toEqual(['owner.email', 'modules.3.name']);
    expect(details[1].messages).toContain('name must be a string');
  });
});

describe('RequestValidationPipe.transform', () => {
  const pipe = new RequestValidationPipe();
  const validSite = { url: 'https://example.org', port: 443 };

  it('returns an instance of the DTO for a valid body', async () => {
    const result = await pipe.transform({ ...validSite }, bodyOf(SiteDto));

    expect(result).toBeInstanceOf(SiteDto);
    expect(result).toEqual(validSite);
  });

  it.each([
    ['an array', [validSite]],
    ['a string', 'url=https://example.org'],
    ['null', null],
    ['a number', 42],
    ['undefined', undefined],
  ])('rejects %s as a DTO body with VALIDATION_FAILED', async (_label, body) => {
    const error = await rejection(pipe.transform(body, bodyOf(SiteDto)));

    expectValidationFailure(error);
    expect(error.message).toBe('Request body must be a JSON object');
    expect(error.details).toEqual([{ field: '', messages: ['body must be a JSON object'] }]);
  });

  it('accepts an array body when the handler expects an array', async () => {
    const body = [1, 2, 3];

    await expect(pipe.transform(body, bodyOf(Array))).resolves.toEqual(body);
  });

  it('refuses unknown fields, naming each one', async () => {
    const error = await rejection(pipe.transform({ ...validSite, is_admin: true, role: 'root' }, bodyOf(SiteDto)));

    expectValidationFailure(error);
    expect(error.message).toBe('Request validation failed');
    expect(error.details).toEqual([
      { field: 'is_admin', messages: ['property is_admin should not exist'] },
      { field: 'role', messages: ['property role should not exist'] },
    ]);
  });

  it('refuses unknown fields inside nested objects', async () => {
    const error = await rejection(
      pipe.transform({ ...validSite, owner: { email: 'a@example.org', admin: true } }, bodyOf(SiteDto)),
    );

    expectValidationFailure(error);
    expect(error.details).toEqual([{ field: 'owner.admin', messages: ['property admin should not exist'] }]);
  });

  it('reports nested array failures with dotted paths', async () => {
    const body = { ...validSite, modules: [{ name: 'views' }, { name: 'node' }, { name: 'user' }, { name: '' }] };

    const error = await rejection(pipe.transform(body, bodyOf(SiteDto)));

    expectValidationFailure(error);
    expect(error.details).toEqual([
      { field: 'modules.3.name', messages: [expect.stringContaining('name must be longer than or equal to 1')] },
    ]);
  });

  it('reports every failing field at once without echoing values', async () => {
    const error = await rejection(pipe.transform({ url: 5, port: 0 }, bodyOf(SiteDto)));

    expectValidationFailure(error);
    expect(failedFields(error)).toEqual(['url', 'port']);
    expect(JSON.stringify(error.details)).not.toContain('"value"');
  });

  it('does not convert body strings to numbers implicitly', async () => {
    const error = await rejection(pipe.transform({ url: 'https://example.org', port: '443' }, bodyOf(SiteDto)));

    expectValidationFailure(error);
    expect(failedFields(error)).toEqual(['port']);
  });

  it('converts query strings to numbers for PaginationQueryDto', async () => {
    const result = await pipe.transform({ page: '3', per_page: '25' }, queryOf(PaginationQueryDto));

    expect(result).toBeInstanceOf(PaginationQueryDto);
    const dto = result as PaginationQueryDto;
    expect(dto.page).toBe(3);
    expect(dto.per_page).toBe(25);
    expect(dto.offset).toBe(50);
  });

  it('applies pagination defaults for an empty query', async () => {
    const dto = (await pipe.transform({}, queryOf(PaginationQueryDto))) as PaginationQueryDto;

    expect(dto.page).toBe(1);
    expect(dto.per_page).toBe(20);
  });

  it('keeps declared filters of a DTO extending PaginationQueryDto', async () => {
    const dto = (await pipe.transform({ page: '2', q: 'drupal' }, queryOf(ListSitesQueryDto))) as ListSitesQueryDto;

    expect(dto.page).toBe(2);
    expect(dto.q).toBe('drupal');
  });

  it.each([
    [{ page: 'abc' }, 'page'],
    [{ page: '0' }, 'page'],
    [{ per_page: '101' }, 'per_page'],
    [{ sort: 'name' }, 'sort'],
  ])('rejects query %p naming %s', async (input, field) => {
    const error = await rejection(pipe.transform(input, queryOf(PaginationQueryDto)));

    expectValidationFailure(error);
    expect(failedFields(error)).toEqual([field]);
  });

  // Fails today: the JSON-object check also fires for a single field picked with @Body('name').
  it.each([
    ['a string', 'web-01', String],
    ['a number', 42, Number],
  ])('passes %s picked from the body with @Body(field) through', async (_label, value, metatype) => {
    await expect(pipe.transform(value, { type: 'body', metatype, data: 'name' })).resolves.toBe(value);
  });

  it('leaves route parameters without a DTO untouched', async () => {
    await expect(pipe.transform('site-1', { type: 'param', metatype: String, data: 'id' })).resolves.toBe('site-1');
  });
});

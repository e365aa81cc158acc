import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { OPENAPI_FILE, renderOpenApiDocument } from '../../src/cli/openapi.js';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  security?: Array<Record<string, string[]>>;
}

describe('OpenAPI document', () => {
  it('matches the committed openapi/openapi.json (run `npm run openapi` after changing routes)', async () => {
    const generated = await renderOpenApiDocument();
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    expect(generated).toBe(committed);
  });

  it('documents the error envelope and the security of every operation', async () => {
    const document = JSON.parse(await renderOpenApiDocument()) as { paths: Record<string, Record<string, Operation>> };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
    );
    expect(operations.length).toBeGreaterThan(0);
    for (const { name, operation } of operations) {
      const errorRef = operation.responses['400']?.content?.['application/json']?.schema?.$ref;
      expect({ name, errorRef }).toEqual({ name, errorRef: '#/components/schemas/ErrorEnvelopeDto' });
      const isPublic = name.endsWith('/health') || name === 'POST /api/v1/auth/login';
      expect({ name, secured: (operation.security ?? []).length > 0 }).toEqual({ name, secured: !isPublic });
      if (!isPublic) expect({ name, documents401: '401' in operation.responses }).toEqual({ name, documents401: true });
    }
  });
});

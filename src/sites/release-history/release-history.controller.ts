import {
  Controller,
  createParamDecorator,
  Get,
  HttpStatus,
  Param,
  Post,
  Query,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import type { FastifyRequest as Request } from 'fastify';
import { ApiBody, ApiConsumes, ApiParam, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../../auth/auth.decorators.js';
import { Permission } from '../../auth/principal.js';
import { AppError } from '../../common/errors/app-error.js';
import { declaresBody, hasMediaType, XML_BODY_MEDIA_TYPES } from '../../common/http/json-content-type.middleware.js';
import { Endpoint } from '../../common/openapi/endpoint.decorator.js';
import type { Page } from '../../common/pagination/pagination.js';
import { MACHINE_NAME_PATTERN } from '../drupal-version.js';
import { ProjectReleasesQueryDto, ReleaseDto, ReleaseHistoryImportDto } from './dto/release-history.dto.js';
import { MAX_RELEASE_HISTORY_BYTES } from './release-history.parser.js';
import { AUDIT_ACTION, AUDIT_RESOURCE, ReleaseHistoryService } from './release-history.service.js';

/** A project name in the path must be a machine name; anything else is a 400 naming the parameter. */
const projectName: PipeTransform<string, string> = {
  transform(value: string): string {
    if (MACHINE_NAME_PATTERN.test(value)) return value;
    throw new AppError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'name must be a project machine name', [
      { field: 'name', messages: ['name must be a machine name: lower-case letters, digits and underscores'] },
    ]);
  },
};

/**
 * The raw XML body. Its media type is checked here, after authentication, so anonymous callers get 401 like
 * everywhere else; only application/xml and text/xml reach the text body parser (src/app.ts).
 */
const XmlBody = createParamDecorator((_data: unknown, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest<Request>();
  if (declaresBody(request.headers) && !hasMediaType(request.headers['content-type'], XML_BODY_MEDIA_TYPES)) {
    throw new AppError(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'UNSUPPORTED_MEDIA_TYPE',
      'Release histories must be application/xml or text/xml',
    );
  }
  return request.body;
});

@ApiTags('release-history')
@Controller()
export class ReleaseHistoryController {
  constructor(private readonly releaseHistoryService: ReleaseHistoryService) {}

  @Post('release-history')
  @Authenticated({ permission: Permission.SiteWrite, audit: { action: AUDIT_ACTION, resource: AUDIT_RESOURCE } })
  @Endpoint({
    summary: 'Import a Drupal release-history XML document',
    description:
      'The updates.drupal.org format (`/release-history/<project>/current`), as application/xml or text/xml, at most ' +
      `${MAX_RELEASE_HISTORY_BYTES} bytes. The project's releases are replaced and the statuses of the sites' modules ` +
      'of that project recomputed. Several projects may be wrapped in `<projects>`; the answer is then a list. ' +
      'DOCTYPE and ENTITY declarations are refused (400 RELEASE_HISTORY.FORBIDDEN_XML).',
    response: ReleaseHistoryImportDto,
    hasBody: true,
  })
  @ApiConsumes(...XML_BODY_MEDIA_TYPES)
  @ApiBody({ schema: { type: 'string', format: 'xml' } })
  import(@XmlBody() xml: unknown): Promise<ReleaseHistoryImportDto | ReleaseHistoryImportDto[]> {
    return this.releaseHistoryService.importRequest(xml);
  }

  @Get('projects/:name/releases')
  @Authenticated({ permission: Permission.SiteRead })
  @Endpoint({ summary: "An imported project's releases, newest first", response: ReleaseDto, list: true, errors: [404] })
  @ApiParam({ name: 'name', description: 'Project machine name', example: 'token' })
  listReleases(@Param('name', projectName) name: string, @Query() query: ProjectReleasesQueryDto): Promise<Page<ReleaseDto>> {
    return this.releaseHistoryService.listReleases(name, query);
  }
}

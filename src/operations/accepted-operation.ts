import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import type { FastifyReply as Response } from 'fastify';
import { Endpoint, type EndpointOptions } from '../common/openapi/endpoint.decorator.js';
import { OperationDto } from './dto/operation.dto.js';

/** Documents a route that answers 202 with the operation it started and its Location. */
export function AcceptedOperation(options: Omit<EndpointOptions, 'response' | 'status'>): MethodDecorator {
  return applyDecorators(
    Endpoint({ ...options, response: OperationDto, status: HttpStatus.ACCEPTED, errors: [...(options.errors ?? []), 409] }),
    ApiHeader({ name: 'Location', description: 'GET it (or /wait) to follow the operation', required: false }),
    ApiResponse({
      status: HttpStatus.ACCEPTED,
      description: 'Accepted; the operation runs in the background',
      headers: { Location: { description: '/api/v1/operations/{id}', schema: { type: 'string' } } },
    }),
  );
}

/** Sets the Location of a started operation; the controller returns the operation itself. */
export function locate(response: Response, operation: OperationDto): OperationDto {
  response.header('Location', `/api/v1/operations/${operation.id}`);
  return operation;
}

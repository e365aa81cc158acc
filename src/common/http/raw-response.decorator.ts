import { SetMetadata } from '@nestjs/common';

export const RAW_RESPONSE = 'opsdeck:raw-response';

/** The handler writes its own body (metrics text, CSV, files): no JSON envelope. */
export const RawResponse = (): MethodDecorator & ClassDecorator => SetMetadata(RAW_RESPONSE, true);

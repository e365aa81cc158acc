import { Permission } from '../auth/principal.js';

const CONTAINER_ROOM = /^container:[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const OPERATION_ROOM = /^operation:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The permission a client needs to join a room, or null when there is no such room. */
export function roomPermission(room: string): Permission | null {
  if (room === 'containers' || CONTAINER_ROOM.test(room)) return Permission.ContainerRead;
  if (room === 'idrac') return Permission.IdracRead;
  if (room === 'operations' || OPERATION_ROOM.test(room)) return Permission.OperationRead;
  return null;
}

export const containerRooms = (name: string): string[] => ['containers', `container:${name}`];

export const operationRooms = (id: string): string[] => ['operations', `operation:${id}`];

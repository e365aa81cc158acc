export interface ContainerInfo {
  readonly name: string;
  /** As LXC prints it: RUNNING, STOPPED, FROZEN, STARTING, STOPPING, ABORTING, FREEZING, THAWED. */
  readonly state: string;
  readonly ipv4: string[];
  readonly ipv6: string[];
  readonly pid: number | null;
  readonly autostart: boolean;
  /** Memory in use while running (lxc-ls prints MiB with two decimals, labelled MB); null when stopped. */
  readonly memoryBytes: number | null;
}

/** The columns LxcHost asks for, in this order: `lxc-ls -f -F name,state,ipv4,ipv6,pid,autostart,ram`. */
export const LXC_LS_FIELDS = ['NAME', 'STATE', 'IPV4', 'IPV6', 'PID', 'AUTOSTART', 'RAM'] as const;
type Field = (typeof LXC_LS_FIELDS)[number];

/**
 * Parses `lxc-ls -f` output by the column positions of its header: a cell may hold spaces (several addresses are
 * joined by ", "), so splitting on whitespace would shift columns. Empty cells are printed as '-'. No containers
 * means no output at all, not even the header.
 */
export function parseLxcLsFancy(output: string): ContainerInfo[] {
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  const header = lines.shift();
  if (header === undefined) return [];
  const columns: { field: string; start: number }[] = [];
  for (const match of header.matchAll(/\S+/g)) columns.push({ field: match[0], start: match.index });
  for (const field of LXC_LS_FIELDS) {
    if (!columns.some((column) => column.field === field)) throw new Error(`lxc-ls printed no ${field} column`);
  }
  return lines.map((line) => {
    const cells = new Map<string, string>();
    columns.forEach((column, index) => {
      const end = index + 1 < columns.length ? (columns[index + 1] as { start: number }).start : line.length;
      const value = line.slice(column.start, end).trim();
      cells.set(column.field, value === '-' ? '' : value);
    });
    const cell = (field: Field): string => cells.get(field) ?? '';
    const pid = cell('PID');
    return {
      name: cell('NAME'),
      state: cell('STATE'),
      ipv4: splitAddresses(cell('IPV4')),
      ipv6: splitAddresses(cell('IPV6')),
      pid: /^\d+$/.test(pid) ? Number(pid) : null,
      autostart: cell('AUTOSTART') === '1',
      memoryBytes: parseMemory(cell('RAM')),
    };
  });
}

function splitAddresses(cell: string): string[] {
  return cell
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
}

const MIB = 1024 * 1024;

function parseMemory(cell: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(MB|MiB|KB|KiB|GB|GiB)?$/i.exec(cell);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = (match[2] ?? 'MB').toUpperCase();
  const factor = unit.startsWith('K') ? 1024 : unit.startsWith('G') ? 1024 * MIB : MIB;
  return Math.round(value * factor);
}

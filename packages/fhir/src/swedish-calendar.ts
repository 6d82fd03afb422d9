// Swedish public holidays and working-day arithmetic in Europe/Stockholm, for SIP reminder deadlines.

export interface Holiday {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  /** Swedish name, e.g. "Midsommarafton". */
  name: string;
}

const TIME_ZONE = 'Europe/Stockholm';
const DAY_MS = 86_400_000;

// One formatter for every lookup: constructing Intl.DateTimeFormat is far costlier than formatting.
const stockholmParts = new Intl.DateTimeFormat('sv-SE', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

function assertValidInstant(instant: Date, what: string): void {
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) {
    throw new RangeError(`${what} must be a valid Date, got ${String(instant)}`);
  }
}

/** Stockholm's wall clock at an instant, read through Intl (slow: about 10 µs a call). */
function wallClockFromIntl(epochMs: number): WallClock {
  const fields: Record<string, number> = {};
  for (const part of stockholmParts.formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const get = (name: string): number => {
    const value = fields[name];
    if (value === undefined || Number.isNaN(value)) {
      throw new Error(`Intl did not return a numeric ${name} for ${new Date(epochMs).toISOString()}`);
    }
    return value;
  };
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
    millisecond: ((epochMs % 1000) + 1000) % 1000,
  };
}

const HOUR_MS = 3_600_000;
/** Stockholm's offset per UTC hour, for hours whose offset is the same at both ends (all but a switch hour). */
const offsetByHour = new Map<number, number>();

function offsetFromIntl(epochMs: number): number {
  return wallClockAsUtcMs(wallClockFromIntl(epochMs)) - epochMs;
}

/**
 * Stockholm's UTC offset in milliseconds at an instant (e.g. 3_600_000 in winter). Clocks change on whole UTC
 * hours, so an hour whose offset is the same at its first and last millisecond has that offset throughout and is
 * remembered; any other hour (the 1900 switch from local mean time, say) is asked of Intl every time.
 */
function offsetAt(epochMs: number): number {
  const hour = Math.floor(epochMs / HOUR_MS);
  const known = offsetByHour.get(hour);
  if (known !== undefined) return known;
  const first = offsetFromIntl(hour * HOUR_MS);
  if (offsetFromIntl(hour * HOUR_MS + HOUR_MS - 1) !== first) return offsetFromIntl(epochMs);
  if (offsetByHour.size >= 100_000) offsetByHour.clear();
  offsetByHour.set(hour, first);
  return first;
}

function wallClockAt(epochMs: number): WallClock {
  const local = new Date(epochMs + offsetAt(epochMs));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    millisecond: local.getUTCMilliseconds(),
  };
}

function wallClockAsUtcMs(w: WallClock): number {
  // Date.UTC maps years 0-99 onto 1900-1999; setUTCFullYear does not.
  const d = new Date(Date.UTC(2000, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond));
  d.setUTCFullYear(w.year);
  return d.getTime();
}

/**
 * The instant at which Stockholm clocks show `w`. A time skipped by spring-forward resolves to the same
 * distance past the gap, and a time repeated by fall-back resolves to its first occurrence (the behaviour
 * Temporal calls "compatible"). Neither happens for working days, since Swedish DST switches on a Sunday.
 */
function stockholmWallClockToInstant(w: WallClock): number {
  const local = wallClockAsUtcMs(w);
  // Stockholm's offset changes are months apart, so the offsets a day either side are the only candidates.
  const before = offsetAt(local - DAY_MS);
  const after = offsetAt(local + DAY_MS);
  const candidates = [local - before, local - after].filter((t) => offsetAt(t) === local - t);
  if (candidates.length > 0) return Math.min(...candidates);
  return local - before;
}

function parseLocalDate(localDate: string): { year: number; month: number; day: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(localDate);
  if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) {
    throw new RangeError(`Expected a local date as YYYY-MM-DD, got "${localDate}"`);
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new RangeError(`${localDate} is not a calendar date`);
  }
  return { year, month, day };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return new Date(Date.UTC(2001, month, 0)).getUTCDate();
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

// Calendar dates are handled as whole days since the epoch: zone-free, so adding days never meets a DST jump.
function toDayNumber(year: number, month: number, day: number): number {
  const d = new Date(Date.UTC(2000, month - 1, day));
  d.setUTCFullYear(year);
  return Math.round(d.getTime() / DAY_MS);
}

function fromDayNumber(dayNumber: number): { year: number; month: number; day: number } {
  const d = new Date(dayNumber * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function formatDayNumber(dayNumber: number): string {
  const { year, month, day } = fromDayNumber(dayNumber);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** 0 = Sunday ... 6 = Saturday. */
function weekday(dayNumber: number): number {
  return new Date(dayNumber * DAY_MS).getUTCDay();
}

/** Easter Sunday by the anonymous Gregorian (Meeus/Jones/Butcher) algorithm. */
function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return toDayNumber(year, month, day);
}

/** The first day in [from, from + 6] falling on `wantedWeekday`. */
function weekdayOnOrAfter(from: number, wantedWeekday: number): number {
  return from + ((wantedWeekday - weekday(from) + 7) % 7);
}

const FRIDAY = 5;
const SATURDAY = 6;

/**
 * Swedish public holidays (helgdagar, lag 1989:253) plus the eves that are de facto non-working days
 * (midsommarafton, julafton, nyårsafton), sorted by date. Today's rules are applied to every year, so
 * years before 2005 (when nationaldagen replaced annandag pingst) are not historically accurate.
 * Two holidays can share a date (Kristi himmelsfärdsdag can fall on första maj); both are listed.
 */
export function swedishHolidays(year: number): Holiday[] {
  if (!Number.isInteger(year) || year < 1583 || year > 9999) {
    throw new RangeError(`Year must be an integer from 1583 (Gregorian Easter) to 9999, got ${year}`);
  }
  const easter = easterSunday(year);
  const days: [number, string][] = [
    [toDayNumber(year, 1, 1), 'Nyårsdagen'],
    [toDayNumber(year, 1, 6), 'Trettondedag jul'],
    [easter - 2, 'Långfredagen'],
    [easter, 'Påskdagen'],
    [easter + 1, 'Annandag påsk'],
    [toDayNumber(year, 5, 1), 'Första maj'],
    [easter + 39, 'Kristi himmelsfärdsdag'],
    [toDayNumber(year, 6, 6), 'Sveriges nationaldag'],
    [easter + 49, 'Pingstdagen'],
    [weekdayOnOrAfter(toDayNumber(year, 6, 19), FRIDAY), 'Midsommarafton'],
    [weekdayOnOrAfter(toDayNumber(year, 6, 20), SATURDAY), 'Midsommardagen'],
    [weekdayOnOrAfter(toDayNumber(year, 10, 31), SATURDAY), 'Alla helgons dag'],
    [toDayNumber(year, 12, 24), 'Julafton'],
    [toDayNumber(year, 12, 25), 'Juldagen'],
    [toDayNumber(year, 12, 26), 'Annandag jul'],
    [toDayNumber(year, 12, 31), 'Nyårsafton'],
  ];
  return days.sort((x, y) => x[0] - y[0]).map(([day, name]) => ({ date: formatDayNumber(day), name }));
}

// isWorkingDay is called once per day counted, so each year's holiday set is built only once.
const holidayCache = new Map<number, ReadonlySet<string>>();

function holidayDates(year: number): ReadonlySet<string> {
  let dates = holidayCache.get(year);
  if (dates === undefined) {
    dates = new Set(swedishHolidays(year).map((h) => h.date));
    holidayCache.set(year, dates);
  }
  return dates;
}

/** The calendar date (YYYY-MM-DD) that clocks in Stockholm show at `instant`. */
export function stockholmDate(instant: Date): string {
  assertValidInstant(instant, 'instant');
  const w = wallClockAt(instant.getTime());
  return formatDayNumber(toDayNumber(w.year, w.month, w.day));
}

/** Whether a Stockholm calendar date (YYYY-MM-DD) is Monday to Friday and not in swedishHolidays. */
export function isWorkingDay(localDate: string): boolean {
  const { year, month, day } = parseLocalDate(localDate);
  const dow = weekday(toDayNumber(year, month, day));
  return dow !== 0 && dow !== SATURDAY && !holidayDates(year).has(localDate);
}

/**
 * The instant `days` Swedish working days after `instant`, at the same Stockholm wall-clock time (so a
 * deadline set at 14:00 stays at 14:00 across a DST change). When `instant` falls on a non-working day,
 * counting starts from the next working day at the same time: an invitation sent on Saturday counts as
 * sent on Monday, so Saturday + 2 is Wednesday, and `days` = 0 moves a non-working day to the next
 * working day.
 */
export function addWorkingDays(instant: Date, days: number): Date {
  assertValidInstant(instant, 'instant');
  if (!Number.isInteger(days) || days < 0) {
    throw new RangeError(`days must be a non-negative integer, got ${days}`);
  }
  const start = wallClockAt(instant.getTime());
  let day = toDayNumber(start.year, start.month, start.day);
  while (!isWorkingDay(formatDayNumber(day))) day += 1;
  for (let remaining = days; remaining > 0; ) {
    day += 1;
    if (isWorkingDay(formatDayNumber(day))) remaining -= 1;
  }
  const { year, month, day: dayOfMonth } = fromDayNumber(day);
  return new Date(stockholmWallClockToInstant({ ...start, year, month, day: dayOfMonth }));
}

import { describe, expect, it } from 'vitest';
import { clearingWorkflowId, isPeriod, previousPeriod, previousPeriodIn, statementWorkflowId } from '../../domain/period.ts';
import { csvField, csvText } from '../../services/statement-csv.ts';

describe('clearing periods', () => {
  it('accepts months written YYYY-MM only', () => {
    for (const ok of ['2025-01', '2026-12', '2000-10']) expect(isPeriod(ok), ok).toBe(true);
    for (const bad of ['2025-13', '2025-00', '2025-1', '25-01', '2025-01-01', 'jan', '', ' 2025-01', '0000-01', '1999-12']) expect(isPeriod(bad), bad).toBe(false);
  });

  it('finds the previous month, across a year boundary', () => {
    expect(previousPeriod(new Date('2026-11-01T01:00:00Z'))).toBe('2026-10');
    expect(previousPeriod(new Date('2027-01-01T00:30:00Z'))).toBe('2026-12');
    expect(previousPeriod(new Date('2026-03-31T23:59:59Z'))).toBe('2026-02');
  });

  it('reads the month in the centre\'s time zone, where the schedule fires', () => {
    expect(previousPeriodIn(new Date('2026-11-01T01:00:00Z'), 'Europe/Berlin')).toBe('2026-10');
    // 02:00 on 1 November in Tokyo is 17:00 UTC on 31 October: the month to clear is still October.
    expect(previousPeriodIn(new Date('2026-10-31T17:00:00Z'), 'Asia/Tokyo')).toBe('2026-10');
    expect(previousPeriod(new Date('2026-10-31T17:00:00Z'))).toBe('2026-09'); // what UTC alone would get wrong
    expect(previousPeriodIn(new Date('2027-01-01T07:00:00Z'), 'America/New_York')).toBe('2026-12');
  });

  it('names the workflows after the period and party', () => {
    expect(clearingWorkflowId('2026-10')).toBe('clearing-2026-10');
    expect(statementWorkflowId('2026-10', 'abc')).toBe('clearing-2026-10-abc');
  });
});

describe('statement CSV fields', () => {
  it('quotes what RFC 4180 needs quoted', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
  });

  it('defuses names a spreadsheet would run as formulas, and leaves numbers alone', () => {
    expect(csvText('=HYPERLINK("x")')).toBe('\'=HYPERLINK("x")');
    expect(csvText('+1')).toBe("'+1");
    expect(csvText('@SUM')).toBe("'@SUM");
    expect(csvText('Café Nord')).toBe('Café Nord');
    expect(csvField('-5000')).toBe('-5000');
  });
});

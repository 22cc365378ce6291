/** The restore function's configuration (RESTORE_CONFIG): a bad one fails the cold start, naming the field. */
import { parseRestoreConfig } from '../../../lambda/restore/config';

const good = {
  domains: ['orders'],
  lambdaRoles: ['arn:aws:iam::123456789012:role/lambdas'],
  maxExecutions: 100,
  stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:jobs',
};
const parse = (value: unknown) => parseRestoreConfig({ RESTORE_CONFIG: JSON.stringify(value) });

test('GIVEN the configuration the construct writes WHEN read THEN it is taken as it is', () => {
  expect(parse(good)).toEqual(good);
});

test('GIVEN rates within the quotas WHEN read THEN they are kept', () => {
  const rates = { history: { ratePerSecond: 60, burst: 2000 } };
  expect(parse({ ...good, rates }).rates).toEqual(rates);
});

test.each([
  [undefined, /RESTORE_CONFIG: is required/],
  ['not json', /RESTORE_CONFIG: must be JSON/],
])('GIVEN RESTORE_CONFIG %p WHEN read THEN the cold start fails naming it', (raw, message) => {
  expect(() => parseRestoreConfig(raw === undefined ? {} : { RESTORE_CONFIG: raw })).toThrow(message);
});

test.each([
  [{ ...good, domains: [] }, /RESTORE_CONFIG\.domains/],
  [{ ...good, lambdaRoles: ['lambdas'] }, /RESTORE_CONFIG\.lambdaRoles\[0\]/],
  [{ ...good, maxExecutions: 0 }, /RESTORE_CONFIG\.maxExecutions/],
  [
    { ...good, rates: { start: { ratePerSecond: 201, burst: 10 } } },
    /RESTORE_CONFIG\.rates\.start\.ratePerSecond/,
  ],
  [
    { ...good, rates: { history: { ratePerSecond: 10, burst: 2001 } } },
    /RESTORE_CONFIG\.rates\.history\.burst/,
  ],
  [{ ...good, colour: 'red' }, /RESTORE_CONFIG/],
])('GIVEN %j WHEN read THEN it is refused naming the field', (value, message) => {
  expect(() => parse(value)).toThrow(message);
});

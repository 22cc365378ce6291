/**
 * The breakers' records in a DynamoDB table (partition key `policy`, TTL attribute `expiresAt`), one item per
 * event policy. A write holds only on the version it read (a conditional PutItem); a run passed over during a
 * trip is one conditional UpdateItem. The SDK is loaded on first use (lambda/aws/dynamodb-client.ts).
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BreakerRecord, BreakerTable } from './breaker';

type Item = Record<string, AttributeValue>;
type Sdk = typeof import('./dynamodb-client');

const n = (value: number): AttributeValue => ({ N: String(value) });
const num = (value: AttributeValue | undefined): number | undefined =>
  value?.N === undefined ? undefined : Number(value.N);

function toItem(policy: string, record: BreakerRecord, expiresAt: number): Item {
  return {
    policy: { S: policy },
    acted: { M: Object.fromEntries(Object.entries(record.acted).map(([key, at]) => [key, n(at)])) },
    passedOver: n(record.passedOver),
    passedOverTotal: n(record.passedOverTotal),
    version: n(record.version),
    expiresAt: n(expiresAt),
    ...(record.trippedAt === undefined ? {} : { trippedAt: n(record.trippedAt) }),
    ...(record.lastReset === undefined
      ? {}
      : {
          resetAt: n(record.lastReset.at),
          resetBy: { S: record.lastReset.by },
          resetReason: { S: record.lastReset.reason },
        }),
  };
}

function fromItem(item: Item): BreakerRecord {
  const acted = Object.fromEntries(
    Object.entries(item.acted?.M ?? {}).map(([key, at]) => [key, num(at) ?? 0]),
  );
  const trippedAt = num(item.trippedAt);
  const resetAt = num(item.resetAt);
  return {
    acted,
    passedOver: num(item.passedOver) ?? 0,
    passedOverTotal: num(item.passedOverTotal) ?? 0,
    version: num(item.version) ?? 0,
    ...(trippedAt === undefined ? {} : { trippedAt }),
    ...(resetAt === undefined
      ? {}
      : { lastReset: { at: resetAt, by: item.resetBy?.S ?? '', reason: item.resetReason?.S ?? '' } }),
  };
}

/** The table `tableName`, through a client made on first use (or `client`, in tests). */
export function dynamoBreakerTable(tableName: string, client?: () => Promise<DynamoDBClient>): BreakerTable {
  let sdk: Promise<Sdk> | undefined;
  let made: Promise<DynamoDBClient> | undefined;
  const load = () => (sdk ??= import('./dynamodb-client'));
  const clientOf = () => (made ??= client?.() ?? load().then((m) => m.createDynamoDbClient()));
  const key = (policy: string) => ({ policy: { S: policy } });
  /** Runs `send`; false if its condition failed (another invocation wrote first, or no trip is in force). */
  const conditional = async (send: () => Promise<unknown>): Promise<boolean> => {
    try {
      await send();
      return true;
    } catch (error: unknown) {
      if (error instanceof (await load()).ConditionalCheckFailedException) return false;
      throw error;
    }
  };

  return {
    async read(policy) {
      const [{ GetItemCommand }, dynamo] = await Promise.all([load(), clientOf()]);
      const answer = await dynamo.send(
        new GetItemCommand({ TableName: tableName, Key: key(policy), ConsistentRead: true }),
      );
      return answer.Item === undefined ? undefined : fromItem(answer.Item);
    },

    async write(policy, record, expected, expiresAt) {
      const [{ PutItemCommand }, dynamo] = await Promise.all([load(), clientOf()]);
      return conditional(() =>
        dynamo.send(
          new PutItemCommand({
            TableName: tableName,
            Item: toItem(policy, record, expiresAt),
            ...(expected === 0
              ? { ConditionExpression: 'attribute_not_exists(policy)' }
              : {
                  ConditionExpression: 'version = :expected',
                  ExpressionAttributeValues: { ':expected': n(expected) },
                }),
          }),
        ),
      );
    },

    async reset(policy, { at, by, reason }, expiresAt) {
      const [{ UpdateItemCommand }, dynamo] = await Promise.all([load(), clientOf()]);
      // The same request delivered again (its provenance is `by`) changes nothing: applied twice, it would
      // empty a window the policy has used since the first.
      return conditional(() =>
        dynamo.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(policy),
            // The trip's start stays, as history: a trip is in force only if it began after the last reset.
            UpdateExpression:
              'SET acted = :none, resetAt = :at, resetBy = :by, resetReason = :reason, expiresAt = :expires ' +
              'ADD version :one',
            ExpressionAttributeValues: {
              ':none': { M: {} },
              ':at': n(at),
              ':by': { S: by },
              ':reason': { S: reason },
              ':expires': n(expiresAt),
              ':one': n(1),
            },
            ConditionExpression: 'attribute_not_exists(resetBy) OR resetBy <> :by',
          }),
        ),
      );
    },

    async passOverIfTripped(policy, trippedAfter) {
      const [{ UpdateItemCommand }, dynamo] = await Promise.all([load(), clientOf()]);
      return conditional(() =>
        dynamo.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(policy),
            UpdateExpression: 'ADD passedOver :one, passedOverTotal :one, version :one',
            // the same rule as isTripped (lambda/aws/breaker.ts): began within the window, after any reset
            ConditionExpression:
              'trippedAt > :after AND (attribute_not_exists(resetAt) OR trippedAt > resetAt)',
            ExpressionAttributeValues: { ':one': n(1), ':after': n(trippedAfter) },
          }),
        ),
      );
    },
  };
}

/**
 * A real DynamoDB implementation on loopback (dynalite, in memory), with the breakers' table created as the
 * construct creates it (partition key `policy`, on demand). Started and stopped by the tests that use it.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly tableName: string;
  /** A client of it, with the handler's standard configuration otherwise. */
  client(): DynamoDBClient;
  close(): Promise<void>;
}

export async function startLocalDynamoDb(tableName = 'breakers'): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  const client = () => {
    const made = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    clients.push(made);
    return made;
  };
  await client().send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'policy', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'policy', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return {
    endpoint,
    tableName,
    client,
    async close() {
      for (const made of clients) made.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

/**
 * The DynamoDB client, in a file of its own: the package bundles it apart from the handler
 * (scripts/bundle-handler.ts, LAZY_MODULES) and the handler loads it on first use, when an event policy's
 * breaker is consulted (lambda/aws/breaker-table.ts). A cold start that consults none is spared its code.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

export { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, UpdateItemCommand };

/** A client on the SDK's standard configuration (region, credentials, AWS_ENDPOINT_URL_DYNAMODB). */
export function createDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({});
}

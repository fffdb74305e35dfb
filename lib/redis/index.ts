// The Redis client's public face: a RESP2 command client with pipelining, a pub/sub subscriber, their
// errors and options, from one import.

export { createRedisClient, RedisClient } from './client.ts';
export { createRedisSubscriber, RedisSubscriber } from './subscriber.ts';
export type { RedisOptions, ReconnectingInfo } from './connection.ts';
export { RedisConnectionError, RedisProtocolError, RedisReplyError, type RedisConnectionErrorCode } from './errors.ts';
export type { RedisReply, ReplyParserLimits } from './reply-parser.ts';
export type { CommandArgument } from './command-encoder.ts';
export { parseRedisUrl, type RedisEndpoint } from './url.ts';

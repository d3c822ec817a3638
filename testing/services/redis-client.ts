import { createClient } from "redis";

/** A connected node-redis client for `url` (a test's own Redis); close it when done, or use withRedisClient. */
export const connectRedis = (url: string) => createClient({ url }).connect();

export type RedisClient = Awaited<ReturnType<typeof connectRedis>>;

/** Runs `run` with a fresh client connected to `url`, closed afterwards whatever happens. */
export async function withRedisClient<T>(url: string, run: (client: RedisClient) => Promise<T>): Promise<T> {
  const client = await connectRedis(url);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

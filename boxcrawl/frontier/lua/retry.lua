-- A transient failure. ARGV: prefix, owner, url, error, delay, max_attempts
-- -> 1 requeued after a backoff, 0 attempts used up (the caller records the page as failed),
--    -1 the lease was lost (expired and handed to another worker): the caller drops the page.
local p, owner, url, err = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local delay, max_attempts = tonumber(ARGV[5]), tonumber(ARGV[6])
if redis.call('HGET', p .. 'owners', url) ~= owner then return -1 end
local info = redis.call('HGET', p .. 'info', url) or '0 0'
local depth, attempts = string.match(info, '^(%d+) (%d+)$')
attempts = tonumber(attempts) + 1
redis.call('HSET', p .. 'info', url, depth .. ' ' .. attempts)
redis.call('HSET', p .. 'errors', url, err)
if attempts >= max_attempts then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREM', p .. 'leases', url)
redis.call('HDEL', p .. 'owners', url)
redis.call('ZADD', p .. 'delayed', now + delay * 2 ^ (attempts - 1), url)
return 1

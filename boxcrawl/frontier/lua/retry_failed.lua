-- Put every failed URL back at the front of the queue, in the order they failed, with attempts reset, so
-- that a --max-pages limit is spent on them before new pages (as the SQLite frontier does by age).
-- ARGV: prefix -> how many
local p = ARGV[1]
local failed = redis.call('HGETALL', p .. 'failed')
local first = redis.call('ZRANGE', p .. 'queue', 0, 0, 'WITHSCORES')
local front = 0
if #first == 2 then front = tonumber(first[2]) end
local n = #failed / 2
for i = 1, #failed, 2 do
  local url = failed[i]
  local depth, outcome = string.match(failed[i + 1], '^(%d+) (.*)$')
  local host = string.match(url, '^%a+://([^/]+)') or '?'
  redis.call('HSET', p .. 'info', url, depth .. ' 0')
  redis.call('ZADD', p .. 'queue', front - n - 1 + (i + 1) / 2, url)
  redis.call('HDEL', p .. 'errors', url)
  redis.call('HINCRBY', p .. 'stat', 'done', -1)
  redis.call('HINCRBY', p .. 'stat', 'failed', -1)
  redis.call('HINCRBY', p .. 'outcomes', outcome, -1)
  redis.call('HINCRBY', p .. 'host_done', host, -1)
  redis.call('HINCRBY', p .. 'host_failed', host, -1)
end
redis.call('DEL', p .. 'failed')
return n

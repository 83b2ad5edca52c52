-- Put every failed URL back in the queue with its attempts reset. ARGV: prefix -> how many
local p = ARGV[1]
local failed = redis.call('HGETALL', p .. 'failed')
for i = 1, #failed, 2 do
  local url = failed[i]
  local depth, outcome = string.match(failed[i + 1], '^(%d+) (.*)$')
  local host = string.match(url, '^%a+://([^/]+)') or '?'
  redis.call('HSET', p .. 'info', url, depth .. ' 0')
  redis.call('ZADD', p .. 'queue', redis.call('INCR', p .. 'seq'), url)
  redis.call('HDEL', p .. 'errors', url)
  redis.call('HINCRBY', p .. 'stat', 'done', -1)
  redis.call('HINCRBY', p .. 'stat', 'failed', -1)
  redis.call('HINCRBY', p .. 'outcomes', outcome, -1)
  redis.call('HINCRBY', p .. 'host_done', host, -1)
  redis.call('HINCRBY', p .. 'host_failed', host, -1)
end
redis.call('DEL', p .. 'failed')
return #failed / 2

-- Queue URLs never seen before. ARGV: prefix, depth, url... -> how many were new
local p, depth = ARGV[1], ARGV[2]
local added = 0
for i = 3, #ARGV do
  local url = ARGV[i]
  if redis.call('SADD', p .. 'seen', url) == 1 then
    redis.call('HSET', p .. 'info', url, depth .. ' 0')
    redis.call('ZADD', p .. 'queue', redis.call('INCR', p .. 'seq'), url)
    added = added + 1
  end
end
return added

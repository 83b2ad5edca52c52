-- A worker's heartbeat, and the reaping of workers whose heartbeat stopped.
-- ARGV: prefix, owner, info (JSON: what it is doing), ttl_ms
-- -> flat list: dead owner, URLs of its put back at the front of the queue, ...
-- A worker that misses beats for ttl_ms is dead: its leased URLs (pages it was rendering and pages
-- waiting in its uncommitted shard) and its host slots are freed at once instead of at lease
-- expiry. If it was only slow, nothing is lost: its late commit is fenced like an expired lease's.
local p, owner, info, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SET', p .. 'alive:' .. owner, info, 'PX', ttl)
redis.call('HSET', p .. 'workers', owner, info)

local dead = {}
for _, w in ipairs(redis.call('HKEYS', p .. 'workers')) do
  if redis.call('EXISTS', p .. 'alive:' .. w) == 0 then dead[w] = 0 end
end
if next(dead) == nil then return {} end

local owners = redis.call('HGETALL', p .. 'owners')
for i = 1, #owners, 2 do
  local url, holder = owners[i], owners[i + 1]
  if dead[holder] then
    redis.call('ZREM', p .. 'leases', url)
    redis.call('HDEL', p .. 'owners', url)
    -- recovered pages go first: they are the oldest work and hold the crawl's end back
    redis.call('ZADD', p .. 'queue', -redis.call('INCR', p .. 'front'), url)
    local host = string.lower(string.match(url, '^%a[%w+.-]*://([^/?#]*)') or '?')
    redis.call('ZREM', p .. 'host:' .. host .. ':active', url)
    dead[holder] = dead[holder] + 1
  end
end
local out = {}
for w, n in pairs(dead) do
  redis.call('HDEL', p .. 'workers', w)
  redis.call('HINCRBY', p .. 'stat', 'recovered', n)
  redis.call('HINCRBY', p .. 'stat', 'workers_lost', 1)
  out[#out + 1] = w
  out[#out + 1] = n
end
return out

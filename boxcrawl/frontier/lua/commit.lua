-- Record shard as committed and mark its pages done, all or nothing.
-- ARGV: prefix, owner, shard, then (url, outcome, error) triples; error '' = none.
-- -> {} when committed (or already committed: a retried call is a no-op), else the URLs this owner
--    no longer holds (done by someone else, or leased to another worker after its lease expired).
local p, owner, shard = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HEXISTS', p .. 'shards', shard) == 1 then return {} end
local conflicts = {}
for i = 4, #ARGV, 3 do
  local url = ARGV[i]
  local holder = redis.call('HGET', p .. 'owners', url)
  if redis.call('HEXISTS', p .. 'info', url) == 0 or (holder and holder ~= owner) then
    conflicts[#conflicts + 1] = url
  end
end
if #conflicts > 0 then return conflicts end

local t = redis.call('TIME')
local pages = 0
for i = 4, #ARGV, 3 do
  local url, outcome, err = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local depth = string.match(redis.call('HGET', p .. 'info', url), '^(%d+)')
  local host = string.match(url, '^%a+://([^/]+)') or '?'
  redis.call('ZREM', p .. 'leases', url)
  redis.call('ZREM', p .. 'queue', url)
  redis.call('ZREM', p .. 'delayed', url)
  redis.call('HDEL', p .. 'owners', url)
  redis.call('HDEL', p .. 'info', url)
  redis.call('HINCRBY', p .. 'stat', 'done', 1)
  redis.call('HINCRBY', p .. 'outcomes', outcome, 1)
  redis.call('HINCRBY', p .. 'host_done', host, 1)
  if outcome == 'ok' or outcome == 'no_text' or outcome == 'skipped' then  -- records.NOT_FAILED
    redis.call('HDEL', p .. 'errors', url)
  else
    redis.call('HSET', p .. 'failed', url, depth .. ' ' .. outcome)
    if err ~= '' then redis.call('HSET', p .. 'errors', url, err) end
    redis.call('HINCRBY', p .. 'stat', 'failed', 1)
    redis.call('HINCRBY', p .. 'host_failed', host, 1)
  end
  pages = pages + 1
end
redis.call('HSET', p .. 'shards', shard, pages)
redis.call('RPUSH', p .. 'commits', t[1] .. ' ' .. pages)
redis.call('LTRIM', p .. 'commits', -2000, -1)
return {}

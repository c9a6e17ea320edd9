# redis-compat/ruby/redis_rb.rb: the redis-compat session (see ../README.md) driven
# by redis-rb 4.8 (Debian ruby-redis), plus what redis-rb users reach for:
# redis.pipelined, redis.multi (MULTI/EXEC) and a second Redis object for long
# polling from a Thread. Queue commands go through redis.call, which applies no
# reply transformation, so the checks see the classes redis-rb itself decodes to
# (String for bulk and simple strings, Integer, Array, nil); every reply is compared
# by class as well as value, since 1 == 1.0 in Ruby.
# Errors are Redis::CommandError whose message is the whole error line, code included.
# Both Redis objects have reconnect_attempts: 0, so a dropped connection or a read
# timeout is an error, never a silent reconnect that sends the command again.

PREFIX = 'rb_'
JOBS = "#{PREFIX}jobs"
ORDERS = "#{PREFIX}orders"
WAITQ = "#{PREFIX}wait"
MISSING = "#{PREFIX}missing"

# QINFO's fields in the order commands.md gives them.
QINFO_FIELDS = %w[
  name type dlq visibility_ms delay_ms retention_ms wait_ms maxsize maxdepth
  maxreceives contentdedup created_ms modified_ms ready inflight delayed blocked
  oldest_age_ms sent_total received_total deleted_total expired_total
  deadlettered_total dlq_sources
].freeze

# Equal in value and class all the way down.
def same?(got, expected)
  return false unless got.instance_of?(expected.class)
  return got == expected unless expected.is_a?(Array)

  got.size == expected.size && got.zip(expected).all? { |g, e| same?(g, e) }
end

class Report
  def initialize
    @passed = 0
    @failed = 0
  end

  def check(what, condition, why)
    if condition
      @passed += 1
      puts "ok - #{what}"
    else
      @failed += 1
      puts "FAIL - #{what}: #{why}"
    end
    $stdout.flush
    condition
  end

  def equal(what, got, expected)
    check(what, same?(got, expected), "expected #{expected.inspect}, got #{got.inspect}")
  end

  # The block must raise exactly Redis::CommandError with this message.
  def error(what, expected_text)
    reply = yield
    check(what, false, "expected Redis::CommandError(#{expected_text.inspect}), got reply #{reply.inspect}")
  rescue Redis::CommandError => e
    check(what, e.instance_of?(Redis::CommandError) && e.message == expected_text,
          "expected Redis::CommandError(#{expected_text.inspect}), got #{e.class}(#{e.message.inspect})")
  end

  # One step's unexpected exception must not hide the checks of the others.
  def step(title)
    yield
  rescue StandardError => e
    check(title, false, "unexpected #{e.class}: #{e.message}")
  end

  def finish
    puts "#{@passed} passed, #{@failed} failed"
    exit(@failed.zero? && @passed.positive? ? 0 : 1)
  end
end

# A QRECV message [id, receipt, body, receives], or QPEEK's [id, body, receives].
def message?(item, fields)
  item.instance_of?(Array) && item.size == fields &&
    item[0...-1].all? { |part| part.instance_of?(String) } && item[-1].instance_of?(Integer)
end

def monotonic
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

def exec_calls(redis)
  stats = redis.info('commandstats')
  %w[multi exec].map { |name| (stats[name] || {})['calls'].to_i }
end

# The twelve steps of README.md's session, in order; each keeps on the object what
# later ones need (ids, receipts).
class Session
  def initialize(redis, waiter, report)
    @redis = redis
    @waiter = waiter
    @t = report
    @ids = {}
    @receipts = {}
  end

  def run
    [['1 QCREATE', :create], ['2 QSEND', :send_messages], ['3 QLEN', :length],
     ['4 QRECV', :receive], ['5 QDEL', :delete], ['6 QVIS', :visibility],
     ['7 delayed message', :delayed], ['8 FIFO', :fifo], ['9 long polling', :long_poll],
     ['10 QINFO', :info], ['11 NOQUEUE', :missing_queue], ['12 QDROP', :drop]].each do |title, name|
      @t.step(title) { send(name) }
    end
  end

  def create
    redis = @redis
    @t.equal("QCREATE #{JOBS} VISIBILITY 30 is OK (String)", redis.call('QCREATE', JOBS, 'VISIBILITY', '30'), 'OK')
    @t.equal("QCREATE #{JOBS} VISIBILITY 30 again is OK", redis.call('QCREATE', JOBS, 'VISIBILITY', '30'), 'OK')
    @t.error("QCREATE #{JOBS} VISIBILITY 10 is EXISTS",
             "EXISTS queue '#{JOBS}' exists with different attributes") do
      redis.call('QCREATE', JOBS, 'VISIBILITY', '10')
    end
    @t.equal("QCREATE #{ORDERS} FIFO is OK", redis.call('QCREATE', ORDERS, 'FIFO'), 'OK')
  end

  def send_messages
    redis = @redis
    [['low', %w[PRIORITY 1]], ['high', %w[PRIORITY 9]], ['later', %w[DELAY 1]], ['plain', []]].each do |body, options|
      id = redis.call('QSEND', JOBS, body, *options)
      # Taken once the reply is in: the server started the 1 s delay before it
      # replied, so 1.1 s from here is past it however long the send took.
      @later_sent_at = monotonic if body == 'later'
      @t.check("QSEND #{[JOBS, body, *options].join(' ')} replies an id (String, at most 40 bytes)",
               id.instance_of?(String) && id.bytesize.between?(1, 40), "got #{id.inspect}")
      @ids[body] = id
    end
    @t.check('the four ids are all different', @ids.values.uniq.size == 4, "got #{@ids.inspect}")
  end

  def length
    @t.equal("QLEN #{JOBS} is 3 (Integer; the delayed one is not ready)", @redis.call('QLEN', JOBS), 3)
  end

  def receive
    reply = @redis.call('QRECV', JOBS, 'COUNT', 10, 'VISIBILITY', 5)
    shaped = reply.instance_of?(Array) && reply.size == 3 && reply.all? { |m| message?(m, 4) }
    return unless @t.check('QRECV COUNT 10 VISIBILITY 5 is an Array of three [String, String, String, Integer]',
                           shaped, "got #{reply.inspect}")

    @t.equal('QRECV gives high, low, plain with the QSEND ids and receives 1',
             reply.map { |id, _, body, receives| [id, body, receives] },
             %w[high low plain].map { |body| [@ids[body], body, 1] })
    @t.check('receipts are at most 64 bytes and all different',
             reply.all? { |m| m[1].bytesize <= 64 } && reply.map { |m| m[1] }.uniq.size == 3,
             "got #{reply.map { |m| m[1] }.inspect}")
    reply.each { |_, receipt, body, _| @receipts[body] = receipt }
  end

  def delete
    @t.equal('QDEL <receipt of high> is 1', @redis.call('QDEL', JOBS, @receipts['high']), 1)
    @t.equal('QDEL <receipt of high> again is 0', @redis.call('QDEL', JOBS, @receipts['high']), 0)
  end

  def visibility
    redis = @redis
    @t.equal('QVIS <receipt of low> 0 is OK', redis.call('QVIS', JOBS, @receipts['low'], 0), 'OK')
    @t.equal('QVIS <receipt of plain> 60 is OK', redis.call('QVIS', JOBS, @receipts['plain'], 60), 'OK')
    @t.error('QVIS <receipt of high> 5 is BADRECEIPT', 'BADRECEIPT receipt is stale or unknown') do
      redis.call('QVIS', JOBS, @receipts['high'], 5)
    end
  end

  def delayed
    pause = @later_sent_at + 1.1 - monotonic
    sleep(pause) if pause.positive?
    reply = @redis.call('QRECV', JOBS, 'COUNT', 10)
    shaped = reply.instance_of?(Array) && reply.all? { |m| message?(m, 4) }
    @t.equal('after the delay QRECV COUNT 10 gives low (receives 2) then later (1)',
             shaped ? reply.map { |id, _, body, receives| [id, body, receives] } : reply,
             [[@ids['low'], 'low', 2], [@ids['later'], 'later', 1]])
  end

  def fifo
    redis = @redis
    first = redis.call('QSEND', ORDERS, 'o1', 'GROUP', 'g1', 'DEDUPID', 'd1')
    second = redis.call('QSEND', ORDERS, 'o2', 'GROUP', 'g1', 'DEDUPID', 'd2')
    @t.check('FIFO QSENDs reply two different ids (String)',
             first.instance_of?(String) && second.instance_of?(String) && first != second,
             "got #{first.inspect}, #{second.inspect}")
    @t.equal('QSEND o1 with DEDUPID d1 again replies the first id',
             redis.call('QSEND', ORDERS, 'o1', 'GROUP', 'g1', 'DEDUPID', 'd1'), first)
    reply = redis.call('QRECV', ORDERS, 'COUNT', 10)
    shaped = reply.instance_of?(Array) && reply.all? { |m| message?(m, 4) }
    @t.equal("QRECV #{ORDERS} COUNT 10 gives o1 then o2",
             shaped ? reply.map { |id, _, body, receives| [id, body, receives] } : reply,
             [[first, 'o1', 1], [second, 'o2', 1]])
  end

  def long_poll
    redis = @redis
    @t.equal("QCREATE #{WAITQ} is OK", redis.call('QCREATE', WAITQ), 'OK')
    waiting = Thread.new do
      started = monotonic
      reply = begin
        @waiter.call('QRECV', WAITQ, 'WAIT', 5)
      rescue StandardError => e
        e
      end
      finished = monotonic
      [reply, finished - started, finished]
    end
    # The QSEND waits until the server counts the receiver as blocked (at least
    # 0.2 s, at most about 2 s), so that a slow thread start cannot turn the
    # blocking receive into a plain one.
    deadline = monotonic + 2.0
    sleep 0.2
    blocked = redis.info('clients')['blocked_clients']
    while blocked != '1' && monotonic < deadline
      sleep 0.05
      blocked = redis.info('clients')['blocked_clients']
    end
    @t.equal('while QRECV WAIT 5 blocks on one Redis object, INFO on the other shows 1 blocked client',
             blocked, '1')
    wake_sent = monotonic
    wake_id = redis.call('QSEND', WAITQ, 'wake')
    reply, elapsed, returned = waiting.value
    @t.check('the blocked QRECV returns the message sent from the other connection',
             reply.instance_of?(Array) && reply.size == 1 && message?(reply[0], 4) &&
               same?([reply[0][0], reply[0][2], reply[0][3]], [wake_id, 'wake', 1]),
             "expected [[#{wake_id.inspect}, <receipt>, \"wake\", 1]], got #{reply.inspect}")
    @t.check('it blocked (>= 0.15 s) and returned within 1 s of the QSEND, well before 5 s',
             elapsed >= 0.15 && returned - wake_sent < 1.0,
             format('blocked %.6f s, returned %.6f s after the QSEND', elapsed, returned - wake_sent))

    started = monotonic
    reply = redis.call('QRECV', WAITQ, 'WAIT', '0.2')
    elapsed = monotonic - started
    @t.equal('QRECV WAIT 0.2 on the empty queue is an empty Array', reply, [])
    @t.check('and it waited at least 0.2 s (and not the 5 s of before)', elapsed >= 0.2 && elapsed < 2.0,
             format('took %.6f s', elapsed))
  end

  def info
    flat = @redis.call('QINFO', JOBS)
    return unless @t.check('QINFO is a flat field/value Array under RESP2',
                           flat.instance_of?(Array) && flat.size.even? &&
                             flat.each_slice(2).all? { |name, _| name.instance_of?(String) },
                           "got #{flat.inspect}")

    info = flat.each_slice(2).to_h
    @t.equal("QINFO's fields come in the contract's order", info.keys, QINFO_FIELDS)
    @t.equal('QINFO name', info['name'], JOBS)
    @t.equal('QINFO type', info['type'], 'standard')
    @t.equal('QINFO dlq is nil (null)', info['dlq'], nil)
    @t.equal('QINFO visibility_ms is the Integer 30000', info['visibility_ms'], 30_000)
    # plain (QVIS 60), low and later (step 7) are leased; high was deleted.
    @t.equal('QINFO inflight is the Integer 3', info['inflight'], 3)
    @t.equal('QINFO dlq_sources is an empty Array', info['dlq_sources'], [])
    not_integers = (QINFO_FIELDS - %w[name type dlq dlq_sources]).reject { |n| info[n].instance_of?(Integer) }
    @t.check('every other QINFO field is an Integer', not_integers.empty?,
             "not Integer: #{not_integers.map { |n| [n, info[n]] }.inspect}")
  end

  def missing_queue
    redis = @redis
    # CLIENT ID before and after: the same number unless the server dropped the
    # connection and redis-rb quietly reconnected.
    before = redis.call('CLIENT', 'ID')
    @t.error("QSEND #{MISSING} x is NOQUEUE", "NOQUEUE no such queue '#{MISSING}'") do
      redis.call('QSEND', MISSING, 'x')
    end
    @t.equal('the connection still works afterwards (same CLIENT ID, QLEN replies 0)',
             [redis.call('CLIENT', 'ID'), redis.call('QLEN', JOBS)], [before, 0])
  end

  def drop
    [JOBS, ORDERS, WAITQ].each do |name|
      @t.equal("QDROP #{name} is 1", @redis.call('QDROP', name), 1)
    end
  end
end

def transactions(redis, t)
  tx = "#{PREFIX}tx"
  idle = "#{PREFIX}tx_idle"
  [tx, idle].each { |name| t.equal("QCREATE #{name} is OK", redis.call('QCREATE', name), 'OK') }

  multi_before, exec_before = exec_calls(redis)
  replies = redis.multi do |transaction|
    transaction.call('QSEND', tx, 't1')
    transaction.call('QLEN', tx)
  end
  multi_after, exec_after = exec_calls(redis)
  t.equal('redis.multi went to the server as one MULTI and one EXEC',
          [multi_after - multi_before, exec_after - exec_before], [1, 1])
  t.check('redis.multi returns [id (String), QLEN 1]',
          replies.instance_of?(Array) && replies.size == 2 && replies[0].instance_of?(String) &&
            same?(replies[1], 1), "got #{replies.inspect}")

  started = monotonic
  replies = redis.multi { |transaction| transaction.call('QRECV', idle, 'WAIT', 5) }
  elapsed = monotonic - started
  t.equal('QRECV WAIT 5 inside MULTI does not block: EXEC gives [[]]', replies, [[]])
  t.check('and EXEC came back at once (< 1 s)', elapsed < 1.0, format('took %.6f s', elapsed))

  t.error('a NOQUEUE inside MULTI/EXEC raises it from redis.multi', "NOQUEUE no such queue '#{MISSING}'") do
    redis.multi do |transaction|
      transaction.call('QSEND', tx, 't2')
      transaction.call('QSEND', MISSING, 't3')
    end
  end
  t.equal('while the other commands of that transaction ran (QLEN 2)', redis.call('QLEN', tx), 2)

  t.error('a wrong-arity command queued in MULTI aborts the transaction',
          "ERR wrong number of arguments for 'qlen' command") do
    redis.multi do |transaction|
      transaction.call('QSEND', tx, 't4')
      transaction.call('QLEN')
    end
  end
  t.equal("the aborted transaction's QSEND did not run (QLEN still 2)", redis.call('QLEN', tx), 2)
  [tx, idle].each { |name| t.equal("QDROP #{name} is 1", redis.call('QDROP', name), 1) }
end

def pipelines(redis, t)
  bulk = "#{PREFIX}bulk"
  t.equal("QCREATE #{bulk} is OK", redis.call('QCREATE', bulk), 'OK')
  ids = redis.pipelined do |pipeline|
    1000.times { |i| pipeline.call('QSEND', bulk, "m#{i}") }
  end
  t.check('1,000 QSENDs in one redis.pipelined reply 1,000 different ids (String)',
          ids.size == 1000 && ids.all? { |id| id.instance_of?(String) } && ids.uniq.size == 1000,
          "got #{ids.size} replies, #{ids.uniq.size} different")
  t.equal("QLEN #{bulk} is 1000", redis.call('QLEN', bulk), 1000)

  received = redis.call('QRECV', bulk, 'COUNT', 1000)
  shaped = received.instance_of?(Array) && received.all? { |m| message?(m, 4) }
  t.check('QRECV COUNT 1000 gives all 1,000 in send order',
          shaped && received.map(&:first) == ids && received.map { |m| m[2] } == Array.new(1000) { |i| "m#{i}" },
          "got #{received.instance_of?(Array) ? received.size : received.inspect} messages")
  if shaped
    t.equal('one QDEL with 1,000 receipts is 1000', redis.call('QDEL', bulk, *received.map { |m| m[1] }), 1000)
  end

  binary = "\x00\xff\r\n$-1\r\n*0\r\n".b
  binary_id = redis.call('QSEND', bulk, binary)
  received = redis.call('QRECV', bulk)
  t.check('a body with NUL, 0xff and CRLF comes back byte for byte',
          received.instance_of?(Array) && received.size == 1 && message?(received[0], 4) &&
            received[0][0] == binary_id && received[0][2].b == binary,
          "got #{received.inspect}")

  t.error('an error in redis.pipelined is raised after all replies are read',
          "NOQUEUE no such queue '#{MISSING}'") do
    redis.pipelined do |pipeline|
      pipeline.call('QSEND', bulk, 'p1')
      pipeline.call('QSEND', MISSING, 'p2')
      pipeline.call('QSEND', bulk, 'p3')
    end
  end
  t.equal('and the commands around it ran (QLEN 2)', redis.call('QLEN', bulk), 2)
  # redis-rb 4 turns an unknown method into a command, sent in lower case.
  t.equal('redis.qlen (method_missing, sent lower-case) works too', redis.qlen(bulk), 2)
  t.equal("QDROP #{bulk} is 1", redis.call('QDROP', bulk), 1)
end

def other_queue_commands(redis, t)
  extra = "#{PREFIX}extra"
  dlq = "#{PREFIX}dlq"
  src = "#{PREFIX}src"
  t.equal("QCREATE #{extra} is OK", redis.call('QCREATE', extra), 'OK')
  t.equal('QSET VISIBILITY 45 MAXDEPTH 10 is OK', redis.call('QSET', extra, 'VISIBILITY', 45, 'MAXDEPTH', 10), 'OK')
  info = redis.call('QINFO', extra).each_slice(2).to_h
  t.equal('QINFO shows the QSET values', [info['visibility_ms'], info['maxdepth']], [45_000, 10])

  first = redis.call('QSEND', extra, 'e1')
  second = redis.call('QSEND', extra, 'e2')
  t.equal('QPEEK COUNT 5 gives [id, body, receives] of both, unleased',
          redis.call('QPEEK', extra, 'COUNT', 5), [[first, 'e1', 0], [second, 'e2', 0]])
  t.equal('QLEN is still 2 after QPEEK', redis.call('QLEN', extra), 2)
  t.equal('QPURGE removes 2', redis.call('QPURGE', extra), 2)
  t.equal('QLEN is 0 after QPURGE', redis.call('QLEN', extra), 0)

  t.equal("QCREATE #{dlq} is OK", redis.call('QCREATE', dlq), 'OK')
  t.equal("QCREATE #{src} DLQ #{dlq} MAXRECEIVES 1 is OK", redis.call('QCREATE', src, 'DLQ', dlq, 'MAXRECEIVES', 1), 'OK')

  found = []
  cursor = '0'
  100.times do
    reply = redis.call('QSCAN', cursor, 'MATCH', "#{PREFIX}*", 'COUNT', 2)
    unless reply.instance_of?(Array) && reply.size == 2 && reply[0].instance_of?(String) && reply[1].instance_of?(Array)
      t.check('QSCAN replies [cursor (String), [name, ...]]', false, "got #{reply.inspect}")
      break
    end
    cursor = reply[0]
    found.concat(reply[1])
    break if cursor == '0'
  end
  t.equal("QSCAN from 0 to 0 with MATCH #{PREFIX}* finds exactly the three queues",
          found.uniq.sort, [extra, dlq, src].sort)

  id = redis.call('QSEND', src, 'd1')
  received = redis.call('QRECV', src)
  t.check('QRECV from the source gives d1 (receives 1)',
          received.instance_of?(Array) && received.size == 1 && message?(received[0], 4) &&
            same?([received[0][0], received[0][2], received[0][3]], [id, 'd1', 1]),
          "got #{received.inspect}")
  t.equal('QVIS 0 on its last allowed delivery is OK', redis.call('QVIS', src, received[0][1], 0), 'OK')
  t.equal('it moved to the DLQ: QLEN source 0, QLEN DLQ 1', [redis.call('QLEN', src), redis.call('QLEN', dlq)], [0, 1])
  t.error('QDROP of a queue in use as a DLQ is INUSE', "INUSE queue '#{dlq}' is the dead-letter queue of '#{src}'") do
    redis.call('QDROP', dlq)
  end
  t.equal("QREDRIVE #{dlq} moves 1", redis.call('QREDRIVE', dlq), 1)
  t.equal('the message is back in the source with receives 0', redis.call('QPEEK', src), [[id, 'd1', 0]])
  t.equal('QSET NODLQ is OK', redis.call('QSET', src, 'NODLQ'), 'OK')
  [src, dlq, extra].each { |name| t.equal("QDROP #{name} is 1", redis.call('QDROP', name), 1) }
end

t = Report.new
begin
  require 'redis'
rescue LoadError => e
  t.check('require "redis"', false, e.message)
  t.finish
end

host = ENV.fetch('RESPQ_HOST', '127.0.0.1')
port = Integer(ENV.fetch('RESPQ_PORT', '6390'))
# reconnect_attempts: 0 because redis-rb 4.8 otherwise reconnects once after a
# dropped connection or a read timeout and sends the command again: a QSEND or
# QRECV must never go out twice, and a server hanging up must show as a FAIL.
redis = Redis.new(host: host, port: port, reconnect_attempts: 0)
# QRECV WAIT 5 may rightly take 5 s, which is redis-rb's default read timeout.
waiter = Redis.new(host: host, port: port, read_timeout: 10, reconnect_attempts: 0)
t.step('connect') { t.equal('PING is PONG', redis.ping, 'PONG') }
Session.new(redis, waiter, t).run
t.step('redis.multi') { transactions(redis, t) }
t.step('redis.pipelined') { pipelines(redis, t) }
t.step('QSET, QPEEK, QPURGE, QSCAN, QREDRIVE') { other_queue_commands(redis, t) }
redis.close
waiter.close
t.finish

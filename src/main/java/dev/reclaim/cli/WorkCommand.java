package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import dev.reclaim.config.Durations;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.ShardWork;
import dev.reclaim.run.UsageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/** {@code reclaim work}: the worker function's job from the CLI, for the local run and deployments without Lambda. */
@Command(name = "work", mixinStandardHelpOptions = true,
        description = {"Takes the shards a fanned-out run put on the work queue (RECLAIM_WORK_QUEUE_URL) and purges "
                + "each with the same engine as a run (claims, reference checks, prefix guards, outbox, the run's "
                + "limit across its shards), until the queue is empty or --max-duration. Run several at once to "
                + "spread the work; one shard is purged by one worker at a time."})
final class WorkCommand extends ConfiguredCommand {
    @Option(names = "--hide", paramLabel = "DURATION",
            description = "How long a shard's message stays hidden from other workers, renewed while this one works on "
                    + "it: a killed worker's shard comes back to the queue after it (default 2m).")
    String hide = "2m";

    @Option(names = "--max-duration", paramLabel = "DURATION",
            description = "Take no new shard after this long, and stop a shard in hand there (it goes on in a new "
                    + "message). Default: until the queue is empty.")
    String maxDuration;

    @Option(names = "--wait", paramLabel = "DURATION",
            description = "How long an empty queue is polled before the command ends (default 2s, at most 20s).")
    String wait = "2s";

    @Override
    public Integer call() throws Exception {
        Deadline deadline = maxDuration == null ? Deadline.none() : Deadline.after(duration("--max-duration", maxDuration));
        Duration poll = duration("--wait", wait);
        Duration hidden = duration("--hide", hide);
        Map<ShardWork.Result, Integer> results = new EnumMap<>(ShardWork.Result.class);
        try (Reclaim reclaim = Reclaim.from(settings())) {
            ShardWork work = reclaim.shardWork();
            RetryQueue queue = work.queue();
            if (queue == null) {
                throw new UsageException("RECLAIM_WORK_QUEUE_URL is not set: there is no work queue to take shards from");
            }
            while (!deadline.passed()) {
                var messages = queue.receive(1, poll); // one at a time: a shard in hand is a worker's whole attention
                if (messages.isEmpty()) {
                    break;
                }
                for (var m : messages) {
                    int receives = Integer.parseInt(m.attributesAsStrings().getOrDefault("ApproximateReceiveCount", "1"));
                    queue.hide(m, hidden); // while this worker is on it, page after page
                    long[] hiddenAt = {System.nanoTime()};
                    ShardWork.Result r = work.process(m.messageId(), m.body(), receives, deadline, () -> {
                        if (System.nanoTime() - hiddenAt[0] > hidden.toNanos() / 4) {
                            queue.hide(m, hidden);
                            hiddenAt[0] = System.nanoTime();
                        }
                    });
                    if (r != ShardWork.Result.FAILED_AGAIN) {
                        queue.delete(m);
                    }
                    results.merge(r, 1, Integer::sum);
                }
            }
        }
        int failed = results.getOrDefault(ShardWork.Result.FAILED_AGAIN, 0);
        cli.out().printf("Worked %d shard messages: done %d, failed (left on the queue) %d, parked %d%n",
                results.values().stream().mapToInt(Integer::intValue).sum(), results.getOrDefault(ShardWork.Result.DONE, 0),
                failed, results.getOrDefault(ShardWork.Result.PARKED, 0));
        return failed > 0 ? ReclaimCli.RUN_FAILED : ReclaimCli.OK;
    }

    private static Duration duration(String option, String text) {
        try {
            return Durations.parse(text, Durations.Accepts.POSITIVE);
        } catch (IllegalArgumentException e) {
            throw new UsageException(option + ": " + e.getMessage());
        }
    }
}

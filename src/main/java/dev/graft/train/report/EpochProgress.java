package dev.graft.train.report;

import java.io.PrintStream;
import java.util.Map;
import java.util.Objects;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Console progress of one epoch. Unless quiet, a progress bar (me.tongfei.progressbar, ASCII style, on the
 * given stream) shows the examples done out of the total, the elapsed time and the ETA, the throughput in
 * examples per second, and the running values passed to {@link #step} (e.g. the loss so far). At the end
 * {@link #finish} prints one summary line: the task, seconds, examples per second and the epoch's row
 * (losses and head metrics; per-label metrics of sigmoid heads are left out, they are in metrics.json).
 * Quiet prints only that line, so a quiet run prints exactly one line per epoch.
 *
 * <pre>{@code
 * try (EpochProgress p = new EpochProgress(System.err, "epoch 3/10", trainSize, quiet)) {
 *     for (...) p.step(batchRows, Map.of("loss", runningLoss));
 *     p.finish(row);
 * }
 * }</pre>
 */
public final class EpochProgress implements AutoCloseable {

    /** Widest line the bar draws, in characters. */
    public static final int WIDTH = 120;

    private final PrintStream out;
    private final String task;
    private final ProgressBar bar;
    private final ClosingConsumer consumer;
    private final long start = System.nanoTime();
    private long done;
    private boolean barClosed;
    private boolean finished;

    /**
     * @param out   where the bar and the summary line go
     * @param task  shown first on the bar and the line, e.g. {@code "epoch 3/10"}
     * @param total the epoch's examples
     * @param quiet no bar, only the summary line
     */
    public EpochProgress(PrintStream out, String task, long total, boolean quiet) {
        this.out = Objects.requireNonNull(out, "out");
        this.task = Objects.requireNonNull(task, "task");
        this.consumer = quiet ? null : new ClosingConsumer(out);
        this.bar = quiet ? null : new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(total, 0)).setUnit(" ex", 1)
                .setStyle(ProgressBarStyle.ASCII).showSpeed().setConsumer(consumer)
                .setUpdateIntervalMillis(200).build();
        this.barClosed = bar == null;
    }

    /** {@code n} more examples done; {@code running} (e.g. the loss so far, or metrics) shown beside the bar. */
    public void step(long n, Map<String, ? extends Number> running) {
        done += n;
        if (barClosed) return;
        StringBuilder sb = new StringBuilder();
        if (running != null) running.forEach((k, v) -> sb.append(' ').append(k).append(' ').append(format(v)));
        bar.stepBy(n);
        bar.setExtraMessage(sb.toString());
    }

    /** Examples done so far. */
    public long done() {
        return done;
    }

    /** Ends the bar and prints the epoch's summary line (once; later calls do nothing). */
    public void finish(Map<String, Object> row) {
        closeBar();
        if (finished) return;
        finished = true;
        double seconds = (System.nanoTime() - start) / 1e9;
        StringBuilder sb = new StringBuilder(task).append(String.format(": %.1f s, %.0f ex/s", seconds, done / Math.max(seconds, 1e-9)));
        if (row != null) {
            row.forEach((k, v) -> {
                if (k.equals(MetricsLog.EPOCH) || k.matches(".*_label\\d+_[a-z0-9_]+")) return;
                sb.append(", ").append(k).append(' ').append(v instanceof Number n ? format(n) : v);
            });
        }
        out.println(sb);
        out.flush();
    }

    /** Stops the bar; prints no summary when {@link #finish} was not called (an interrupted epoch). */
    @Override
    public void close() {
        closeBar();
    }

    private void closeBar() {
        if (barClosed) return;
        barClosed = true;
        bar.close();
        // ProgressBar.close() draws the last state and ends the line on its update thread; when the bar is
        // closed before that thread's first tick (an epoch shorter than the update interval), that first run
        // only draws and the line is never ended, so the summary would be glued to the bar. A second close()
        // runs the closing update; if even that did not close the consumer, end the line here.
        if (!consumer.closed) bar.close();
        if (!consumer.closed) consumer.close();
    }

    /** The console consumer, noting when the bar has ended its line. */
    private static final class ClosingConsumer extends ConsoleProgressBarConsumer {
        volatile boolean closed;

        ClosingConsumer(PrintStream out) {
            super(out, WIDTH);
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            super.close();
        }
    }

    private static String format(Number v) {
        if (v instanceof Integer || v instanceof Long) return v.toString();
        double d = v.doubleValue();
        return Double.isNaN(d) ? "nan" : String.format("%.4f", d);
    }
}

package dev.graft.train.report;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Console progress of one epoch: a bar (examples done, throughput, ETA) with the running loss, then one
 * summary line with the epoch's metrics. Quiet: only the summary line.
 */
public final class EpochProgress implements AutoCloseable {

    private final PrintStream out;
    private final String task;
    private final ProgressBar bar;
    private final long start = System.nanoTime();
    private long done;

    public EpochProgress(PrintStream out, String task, long total, boolean quiet) {
        this.out = out;
        this.task = task;
        this.bar = quiet ? null : new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" ex", 1)
                .setStyle(ProgressBarStyle.ASCII).showSpeed().setConsumer(new ConsoleProgressBarConsumer(out, 100))
                .setUpdateIntervalMillis(200).build();
    }

    /** {@code n} more examples trained; {@code running} (e.g. the loss so far) shown beside the bar. */
    public void step(long n, Map<String, Double> running) {
        done += n;
        if (bar == null) return;
        StringBuilder sb = new StringBuilder();
        running.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append(' ').append(String.format("%.4f", v)));
        bar.stepBy(n);
        bar.setExtraMessage(sb.toString());
    }

    /** Ends the epoch with its metrics on one line. */
    public void finish(Map<String, Object> row) {
        if (bar != null) bar.close();
        double seconds = (System.nanoTime() - start) / 1e9;
        StringBuilder sb = new StringBuilder(task).append(String.format(": %.1f s, %.0f ex/s", seconds, done / Math.max(seconds, 1e-9)));
        Map<String, Object> shown = new LinkedHashMap<>(row);
        shown.remove("epoch");
        shown.forEach((k, v) -> {
            if (k.matches(".*_label\\d+_(accuracy|f1)")) return;
            sb.append(", ").append(k).append(' ').append(v instanceof Double d ? String.format("%.4f", d) : v);
        });
        out.println(sb);
        out.flush();
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}

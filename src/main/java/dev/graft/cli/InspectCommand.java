package dev.graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.graft.inspect.ModelReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Describe a model: format, opset, inputs/outputs, ops, parameters, converter coverage, cut points.")
final class InspectCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model file (.onnx).")
    Path model;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ModelReport report = ModelReport.of(model);
        if (json) {
            spec.commandLine().getOut().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(report));
        } else {
            spec.commandLine().getOut().print(report.toText());
        }
        spec.commandLine().getOut().flush();
        if (!report.imports()) {
            spec.commandLine().getErr().println("graft: " + report.importError());
            return GraftCli.BAD_INPUT;
        }
        return GraftCli.OK;
    }
}

package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CliReferenceTest {

    @Test
    void docsCliMdIsWhatTheCommandsSayOfThemselves() throws Exception {
        String generated = CliReference.markdown();
        for (String command : new String[] {"## graft demo", "## graft finetune", "## graft bench finetune", "## graft verify"}) {
            assertTrue(generated.contains(command + "\n"), command);
        }
        assertEquals(generated, Files.readString(Path.of("docs/CLI.md")),
                "docs/CLI.md is stale: regenerate it with  java -cp target/graft.jar:$(cat target/classpath.txt) dev.graft.cli.CliReference docs/CLI.md");
    }
}

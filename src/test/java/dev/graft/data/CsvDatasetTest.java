package dev.graft.data;

import static dev.graft.data.DataAssert.assertFails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** CSV: input and label columns, missing labels as empty cells or '?', and errors naming row and column. */
class CsvDatasetTest {

    @TempDir
    Path dir;

    static final HeadLabels DIGIT = new HeadLabels("digit", LabelKind.CLASSES, 4);
    static final HeadLabels TAGS = new HeadLabels("tags", LabelKind.MULTI_LABEL, 2);
    static final HeadLabels PRICE = new HeadLabels("price", LabelKind.VALUES, 1);
    static final List<HeadLabels> HEADS = List.of(DIGIT, TAGS);
    static final CsvOptions ALL_BUT_LABELS = new CsvOptions(List.of(), Map.of("digit", List.of("digit"), "tags", List.of("t0", "t1")));

    Path csv(String text) throws Exception {
        Path f = dir.resolve("d.csv");
        Files.writeString(f, text, StandardCharsets.UTF_8);
        return f;
    }

    @Test
    void allButLabelColumnsAreInputsAndMissingLabelsAreKept() throws Exception {
        // the seed's multi-task example writes unknown labels as '?'
        Path f = csv("a,digit,b,t0,t1\n1,3,2,1,0\n4,?,5,?,1\n7,,8,0,\n-1.5e1,-1,0.25,1,1\n2,NaN,3,nan,0\n");
        Dataset d = Datasets.csv(f, ALL_BUT_LABELS, "input", HEADS);
        assertEquals(5, d.size());
        INDArray x = d.inputs().get("input");
        assertEquals(DataType.FLOAT, x.dataType());
        assertArrayEquals(new long[]{5, 2}, x.shape());
        assertArrayEquals(new float[]{1, 2, 4, 5, 7, 8, -15, 0.25f, 2, 3}, x.dup('c').data().asFloat());
        INDArray digit = d.labels().get("digit");
        assertEquals(DataType.LONG, digit.dataType());
        assertArrayEquals(new long[]{3, -1, -1, -1, -1}, digit.dup().data().asLong());
        INDArray tags = d.labels().get("tags");
        assertArrayEquals(new long[]{5, 2}, tags.shape());
        assertEquals(1f, tags.getFloat(0, 0));
        assertTrue(Float.isNaN(tags.getFloat(1, 0)));
        assertEquals(1f, tags.getFloat(1, 1));
        assertTrue(Float.isNaN(tags.getFloat(2, 1)));
        assertTrue(Float.isNaN(tags.getFloat(4, 0)));
        assertEquals(0f, tags.getFloat(4, 1));
    }

    @Test
    void namedInputColumnsInTheirOrderQuotesBomAndBlankLines() throws Exception {
        Path f = csv("\uFEFF\"name\",b,a,price\r\n\"x, y\",1,2,9.5\r\n\r\n\"he said \"\"hi\"\"\",3,4,?\r\n");
        Dataset d = Datasets.csv(f, new CsvOptions(List.of("a", "b"), Map.of("price", List.of("price"))), "features", List.of(PRICE));
        assertArrayEquals(new float[]{2, 1, 4, 3}, d.inputs().get("features").dup('c').data().asFloat());
        INDArray price = d.labels().get("price");
        assertArrayEquals(new long[]{2, 1}, price.shape());
        assertEquals(9.5f, price.getFloat(0, 0));
        assertTrue(Float.isNaN(price.getFloat(1, 0)));
    }

    @Test
    void badCellsNameRowAndColumn() throws Exception {
        // rows as a spreadsheet counts them: the header is row 1; a blank line still counts
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,2,3,1,0\n\n4,x,1,0,1\n"), ALL_BUT_LABELS, "input", HEADS),
                "d.csv: row 4, column 'b': 'x' is not a number");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,,3,1,0\n"), ALL_BUT_LABELS, "input", HEADS),
                "d.csv: row 2, column 'b' is empty; inputs cannot be missing");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,?,3,1,0\n"), ALL_BUT_LABELS, "input", HEADS),
                "d.csv: row 2, column 'b' is ?; inputs cannot be missing");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,2,3,1,0\nnan,2,3,1,0\n"), ALL_BUT_LABELS, "input", HEADS),
                "d.csv: row 3, column 'a' holds nan; inputs must be finite");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,2,4,1,0\n"), ALL_BUT_LABELS, "input", HEADS),
                "d.csv: row 2, column 'digit' has label 4.0; head 'digit' takes class indices 0..3");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,2,-2,1,0\n"), ALL_BUT_LABELS, "input", HEADS),
                "row 2, column 'digit' has label -2.0");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,2,0.5,1,0\n"), ALL_BUT_LABELS, "input", HEADS),
                "row 2, column 'digit' has label 0.5");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,2,dog,1,0\n"), ALL_BUT_LABELS, "input", HEADS),
                "row 2, column 'digit': 'dog' is not a number");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,2,1,1,0\n1,2,1,1,0.5\n"), ALL_BUT_LABELS, "input", HEADS),
                "d.csv: row 3, column 't1' is 0.5; multi-label head 'tags' takes 0 or 1");
        assertFails(() -> Datasets.csv(csv("a,price\n1,inf\n"), new CsvOptions(null, Map.of("price", List.of("price"))), "input", List.of(PRICE)),
                "d.csv: row 2, column 'price' is Infinity; targets are finite");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n1,2,1,1\n"), ALL_BUT_LABELS, "input", HEADS),
                "d.csv: row 2 has 4 cells, the header has 5");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n\"1,2,1,1,0\n"), ALL_BUT_LABELS, "input", HEADS),
                "d.csv: row 2 has an unclosed quote");
    }

    @Test
    void badColumnsAndHeadsAreNamed() throws Exception {
        Path f = csv("a,b,digit,t0,t1\n1,2,3,1,0\n");
        assertFails(() -> Datasets.csv(f, new CsvOptions(List.of("a", "c"), ALL_BUT_LABELS.labelColumns()), "input", HEADS),
                "d.csv: no column 'c' (columns: [a, b, digit, t0, t1])");
        assertFails(() -> Datasets.csv(f, new CsvOptions(List.of("a", "digit"), ALL_BUT_LABELS.labelColumns()), "input", HEADS),
                "column 'digit' is both an input and a label column of head 'digit'");
        assertFails(() -> Datasets.csv(f, new CsvOptions(List.of(), Map.of("digit", List.of("digit"))), "input", HEADS),
                "no label columns given for head 'tags'");
        assertFails(() -> Datasets.csv(f, new CsvOptions(List.of(), Map.of("digit", List.of("digit"), "tags", List.of("t0", "t1"),
                "colour", List.of("a"))), "input", HEADS), "label columns given for 'colour', which is no head (heads: [digit, tags])");
        assertFails(() -> Datasets.csv(f, new CsvOptions(List.of(), Map.of("digit", List.of("digit"), "tags", List.of("t0"))), "input", HEADS),
                "head 'tags' needs 2 label column(s), got [t0]");
        assertFails(() -> Datasets.csv(f, new CsvOptions(List.of(), Map.of("digit", List.of("t0"), "tags", List.of("t0", "t1"))), "input", HEADS),
                "column 't0' is a label column of both head 'digit' and head 'tags'");
        assertFails(() -> Datasets.csv(csv("digit,t0,t1\n1,1,0\n"), ALL_BUT_LABELS, "input", HEADS), "no input column is left");
        assertFails(() -> Datasets.csv(csv("a,a,digit,t0,t1\n1,2,3,1,0\n"), ALL_BUT_LABELS, "input", HEADS), "header names column 'a' twice");
        assertFails(() -> Datasets.csv(csv("a,b,digit,t0,t1\n"), ALL_BUT_LABELS, "input", HEADS), "d.csv: a header but no data rows");
        assertFails(() -> Datasets.csv(csv("\n"), ALL_BUT_LABELS, "input", HEADS), "d.csv: empty");
        assertFails(() -> Datasets.csv(dir.resolve("missing.csv"), ALL_BUT_LABELS, "input", HEADS), "missing.csv: cannot read");
    }
}

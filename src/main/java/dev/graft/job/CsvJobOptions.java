package dev.graft.job;
final class CsvJobOptions { static Object parse(com.fasterxml.jackson.databind.JsonNode n, java.nio.file.Path f) { return null; } }

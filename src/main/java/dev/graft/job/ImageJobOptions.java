package dev.graft.job;
final class ImageJobOptions { static Object parse(com.fasterxml.jackson.databind.JsonNode n, java.nio.file.Path f) { return null; } }

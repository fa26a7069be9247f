package dev.graft.data;
public record HeadLabels(String name, LabelKind kind, int size) {}

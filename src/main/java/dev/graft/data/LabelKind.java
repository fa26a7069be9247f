package dev.graft.data;
public enum LabelKind { CLASSES, MULTI_LABEL, VALUES }

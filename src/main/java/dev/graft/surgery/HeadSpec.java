package dev.graft.surgery;

import dev.graft.GraftException;
import java.util.List;
import java.util.Locale;

/**
 * A new head grafted onto a tensor of the model: dense hidden layers with an activation and dropout, then
 * an output layer of {@code size} units read as class probabilities (softmax), independent label
 * probabilities (sigmoid) or values (linear). Weights are drawn from {@code seed}: He-normal before
 * ReLU-like activations, Glorot-uniform otherwise; biases start at zero.
 *
 * @param from       the tensor the head grows from; null: the model's first output after the cut
 * @param dropout    probability of dropping a hidden unit in training (0: none); at inference nothing drops
 * @param lossWeight weight of this head's loss in the total loss
 */
public record HeadSpec(String name, String from, List<Integer> layers, String activation, double dropout,
                       OutputKind output, int size, double lossWeight, long seed) {

    public enum OutputKind {
        SOFTMAX, SIGMOID, LINEAR;

        public static OutputKind parse(String s, String where) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (RuntimeException e) {
                throw new GraftException(where + ": output '" + s + "' is not one of softmax, sigmoid, linear");
            }
        }
    }

    /** Activations a hidden layer may use. */
    public static final List<String> ACTIVATIONS = List.of("relu", "leaky_relu", "elu", "selu", "tanh", "sigmoid",
            "swish", "softplus", "none");

    public HeadSpec {
        if (name == null || name.isBlank() || !name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new GraftException("head name '" + name + "' must be an identifier (letters, digits, _): it names "
                    + "the exported output, the label file y_<head>.npy and the metrics");
        }
        layers = layers == null ? List.of() : List.copyOf(layers);
        for (int units : layers) {
            if (units <= 0) throw new GraftException("head '" + name + "': layer sizes must be positive, got " + layers);
        }
        activation = activation == null ? "relu" : activation.trim().toLowerCase(Locale.ROOT);
        if (!ACTIVATIONS.contains(activation)) {
            throw new GraftException("head '" + name + "': activation '" + activation + "' is not one of " + ACTIVATIONS);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new GraftException("head '" + name + "': dropout " + dropout + " must be in [0, 1)");
        }
        if (output == null) throw new GraftException("head '" + name + "': output kind missing (softmax, sigmoid, linear)");
        if (size <= 0 || output == OutputKind.SOFTMAX && size < 2) {
            throw new GraftException("head '" + name + "': size " + size + " must be positive (at least 2 classes for softmax)");
        }
        if (!(lossWeight >= 0)) throw new GraftException("head '" + name + "': loss_weight " + lossWeight + " must be >= 0");
    }

    /** A softmax classifier over {@code classes} classes on the cut tensor, no hidden layer. */
    public static HeadSpec softmax(String name, int classes) {
        return new HeadSpec(name, null, List.of(), "relu", 0, OutputKind.SOFTMAX, classes, 1.0, 7);
    }

    public HeadSpec withFrom(String tensor) {
        return new HeadSpec(name, tensor, layers, activation, dropout, output, size, lossWeight, seed);
    }

    public HeadSpec withLayers(List<Integer> v) {
        return new HeadSpec(name, from, v, activation, dropout, output, size, lossWeight, seed);
    }

    public HeadSpec withDropout(double v) {
        return new HeadSpec(name, from, layers, activation, v, output, size, lossWeight, seed);
    }

    public HeadSpec withLossWeight(double v) {
        return new HeadSpec(name, from, layers, activation, dropout, output, size, v, seed);
    }

    public HeadSpec withSeed(long v) {
        return new HeadSpec(name, from, layers, activation, dropout, output, size, lossWeight, v);
    }
}

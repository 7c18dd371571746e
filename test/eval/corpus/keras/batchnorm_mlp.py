# Dense -> BatchNorm -> ReLU blocks.
import tensorflow as tf
from tensorflow.keras import Sequential
from tensorflow.keras.layers import Activation, BatchNormalization, Dense, Input

model = Sequential()
model.add(Input(shape=(784,)))
for units in [256, 128, 64]:
    model.add(Dense(units, use_bias=False))
    model.add(BatchNormalization())
    model.add(Activation("relu"))
model.add(Dense(10, activation="softmax"))
model.compile(optimizer=tf.keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy")

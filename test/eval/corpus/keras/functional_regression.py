# Regression on 100 features with the functional API.
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input(shape=(100,), name="features")
x = layers.Dense(64, activation="relu", name="hidden1")(inputs)
x = layers.Dense(64, activation="relu", name="hidden2")(x)
outputs = layers.Dense(1, name="price")(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="regressor")
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse", metrics=["mae"])

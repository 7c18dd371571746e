# A shallow tanh network with the default Glorot initialisation.
from tensorflow import keras

model = keras.Sequential([
    keras.layers.Dense(64, activation="tanh", input_shape=(50,)),
    keras.layers.Dense(32, activation="tanh"),
    keras.layers.Dense(5, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001),
              loss="categorical_crossentropy", metrics=["accuracy"])

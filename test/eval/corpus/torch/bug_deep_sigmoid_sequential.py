# An eight-layer sigmoid nn.Sequential on flattened 28x28 images.
import torch.nn as nn
import torch.optim as optim

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 256), nn.Sigmoid(),
    nn.Linear(256, 256), nn.Sigmoid(),
    nn.Linear(256, 256), nn.Sigmoid(),
    nn.Linear(256, 256), nn.Sigmoid(),
    nn.Linear(256, 256), nn.Sigmoid(),
    nn.Linear(256, 256), nn.Sigmoid(),
    nn.Linear(256, 256), nn.Sigmoid(),
    nn.Linear(256, 256), nn.Sigmoid(),
    nn.Linear(256, 10),
)
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters())

# A single output unit followed by nn.Softmax, trained with nn.BCELoss.
import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Linear(30, 32),
    nn.ReLU(),
    nn.Linear(32, 1),
    nn.Softmax(dim=1),
)
criterion = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

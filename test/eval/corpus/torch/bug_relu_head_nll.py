# ReLU on the output layer, trained with nn.NLLLoss (which expects log-probabilities).
import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Linear(50, 64),
    nn.ReLU(),
    nn.Linear(64, 5),
    nn.ReLU(),
)
criterion = nn.NLLLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

#!/usr/bin/python3
"""PyTorch 1.13 on the same programs as train_*.slope: µs per step.
Usage: train_peers.py KIND DTYPE STEPS   (KIND: xor, xor_sample, conv)"""
import sys, time
import torch
import torch.nn as nn
import torch.optim as optim

kind, dtname, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
dt = getattr(torch, dtname)
torch.manual_seed(0)
if kind.startswith("xor"):
    x2 = torch.tensor([[1.0, 1.0], [1.0, 0.0], [0.0, 0.1], [0.0, 0.0]], dtype=dt)
    target2 = torch.tensor([[1.0], [0.0], [0.0], [1.0]], dtype=dt)
    model = nn.Sequential(nn.Linear(2, 10, dtype=dt), nn.ReLU(), nn.Linear(10, 5, dtype=dt), nn.ReLU(),
                          nn.Linear(5, 1, dtype=dt), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.01)
    loss_fcn = nn.MSELoss()
    if kind == "xor":
        def train(n):
            for i in range(n):
                opt.zero_grad()
                loss = loss_fcn(model(x2), target2)
                loss.backward()
                opt.step()
            return loss.item()
    else:
        def train(n):
            for i in range(n):
                for input, target in zip(x2, target2):
                    opt.zero_grad()
                    loss = loss_fcn(model(input), target)
                    loss.backward()
                    opt.step()
            return loss.item()
else:
    conv = nn.Conv2d(1, 4, kernel_size=4, bias=False, dtype=dt)
    net = lambda x: conv(x).view(1, 4)
    criterion = nn.CrossEntropyLoss()
    opt = optim.SGD(conv.parameters(), lr=0.001, momentum=0.9)
    a = torch.tensor([[0, 1, 0, 1]] * 4, dtype=dt).reshape(1, 1, 4, 4)
    b = torch.tensor([[1, 1, 1, 1], [0, 1, 0, 1], [0, 1, 0, 1], [1, 1, 1, 1]], dtype=dt).reshape(1, 1, 4, 4)
    la, lb = torch.tensor([0]), torch.tensor([1])
    def train(n):
        for i in range(n):
            x, y = (b, lb) if i % 2 == 1 else (a, la)
            opt.zero_grad()
            loss = criterion(net(x), y)
            loss.backward()
            opt.step()
        return loss.item()
train(100 if kind != "xor_sample" else 25)
t = time.perf_counter()
last = train(steps)
print("time: %.3f s" % (time.perf_counter() - t))
print("loss", last)

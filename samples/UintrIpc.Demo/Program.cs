Console.WriteLine("UintrIpc demo: not written yet.");
